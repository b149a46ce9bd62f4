/**
 * Shutdown, the close-with-grace way: SIGINT, SIGTERM (Windows: SIGBREAK) and uncaught errors all take one path
 * that runs once and races a timeout; a second signal while it runs forces exit 1.
 */
import type { Logger } from '../log.js';
import { platform } from '../platform.js';

export interface ShutdownOptions {
  log: Logger;
  /** Longest time the graceful path may take before the process exits 1 (default 5000 ms). */
  timeoutMs?: number;
}

export interface ShutdownHandle {
  /** Resolves with the signal or error that started the shutdown. */
  readonly requested: Promise<string>;
  /** Start the shutdown from inside (a fatal runtime error); same path as a signal. */
  trigger(why: string): void;
  /** Stop listening for signals (after a clean stop). */
  dispose(): void;
}

/** Wait for SIGINT/SIGTERM or an uncaught error; a second signal exits 1 at once. */
export function onShutdown(options: ShutdownOptions): ShutdownHandle {
  const timeoutMs = options.timeoutMs ?? 5000;
  let started = false;
  let resolve!: (why: string) => void;
  const requested = new Promise<string>((r) => (resolve = r));
  const start = (why: string): void => {
    if (started) {
      options.log.error('second signal during shutdown; exiting now', { signal: why });
      process.exit(1);
    }
    started = true;
    const timer = setTimeout(() => {
      options.log.error('shutdown took too long; exiting', { timeout_ms: timeoutMs });
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    resolve(why);
  };
  const onSignal = (signal: NodeJS.Signals): void => start(signal);
  const onError = (err: unknown): void => {
    options.log.error('uncaught error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = 1;
    start('error');
  };
  // SIGINT/SIGTERM; SIGINT/SIGBREAK on Windows (src/platform.ts).
  for (const s of platform.shutdownSignals) process.on(s, onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    requested,
    trigger: start,
    dispose() {
      for (const s of platform.shutdownSignals) process.off(s, onSignal);
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/**
 * The one kit for starting daemons as processes: the demo (`npm start`), the tests
 * (test/fixtures/daemon.ts, cluster.ts, test/fixtures/scenario/harness.ts) and the benchmarks
 * (bench/lib/cluster.ts) all start `pdsm_master` and `pdsm_remote` through it. It ships with
 * the demo, so it imports from src/ only.
 *
 * What it gives: where the bins are; a private place per run (registry folder, SysV key
 * base, UDP port) and the removal of every segment of a key base; a process whose stderr is
 * kept and waited on by pattern; a stop by pid (SIGTERM, then SIGKILL after a grace period);
 * and a SIGKILL by pid at process exit for every process still running, so nothing outlives
 * its parent.
 *
 * Timing: every wait is bounded. waitFor rejects after its timeout, or as soon as the process
 * exits without having printed the pattern; stop sends SIGKILL when SIGTERM was not enough
 * within the grace period.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { masterKeys, remoteKeys } from '../segments/layout.js';
import { Segment } from '../segments/segment.js';

/** The package root: the nearest folder above this file with a package.json (src/ or dist/src/ alike). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const ROOT = packageRoot();
export const BIN = {
  master: join(ROOT, 'bin/pdsm_master.js'),
  remote: join(ROOT, 'bin/pdsm_remote.js'),
  pdsm: join(ROOT, 'bin/pdsm.js'),
};

/** The kernel's ephemeral port range (what a bind to port 0 draws from); IANA's elsewhere. */
export function ephemeralPorts(): [number, number] {
  try {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
    if (m) {
      const lo = Number(m[1]);
      const hi = Number(m[2]);
      if (lo >= 1024 && hi <= 65535 && lo <= hi) return [lo, hi];
    }
  } catch {
    // not Linux: the IANA dynamic range
  }
  return [49152, 65535];
}

/** True when `port` can be bound on the wildcard address (nobody holds it on any address). */
async function bindable(port: number, family: 4 | 6): Promise<boolean> {
  const s = createSocket(family === 6 ? 'udp6' : 'udp4');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, family === 6 ? '::' : '0.0.0.0', () => resolve(true));
  });
  await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

/**
 * A UDP port p that is free with p + 1 (a master's multicast group port, spec §8.1), drawn
 * outside the ephemeral range: a socket bound to port 0 elsewhere on the machine (a remote's,
 * another test's) can then never take either between this check and the daemon's own bind,
 * and tests running side by side only collide by drawing the same number (then the check
 * sees it). At most 200 draws; then the old way (bind 0, read it), which is racy but works.
 */
export async function freeUdpPort(family: 4 | 6 = 4): Promise<number> {
  const [lo, hi] = ephemeralPorts();
  const below: [number, number] = [10_000, lo - 2];
  const above: [number, number] = [hi + 1, 65_534];
  const spans = [below, above].filter(([a, b]) => b - a >= 1000);
  for (let i = 0; i < 200 && spans.length > 0; i++) {
    const [a, b] = spans[randomInt(0, spans.length)]!;
    const port = randomInt(a, b + 1);
    if ((await bindable(port, family)) && (await bindable(port + 1, family))) return port;
  }
  const s = createSocket(family === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((r) => s.bind(0, family === 6 ? '::1' : '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A random SysV key base: `first` plus one of `windows` 64K windows (each caller keeps to its range). */
export function randomKeyBase(first: number, windows: number): number {
  return first + (randomInt(0, windows) << 16);
}

/** Remove every segment of key base `keyBase`: the master's and those of remotes 0..remotes-1. */
export function removeSegments(keyBase: number, remotes: number): void {
  const keys = [masterKeys(keyBase), ...Array.from({ length: remotes }, (_, n) => remoteKeys(n, keyBase))];
  for (const k of keys) for (const key of Object.values(k)) Segment.remove(key);
}

export interface Place {
  /** The private registry folder (-d). */
  dir: string;
  keyBase: number;
  /** The key base as the -k value. */
  key: string;
  /** The master's UDP port (-P). */
  port: number;
  /** -d DIR -k KEY, to put in front of every daemon's arguments. */
  args: string[];
  /** Remove every segment of the key base (master and remotes 0..maxClients-1) and the folder. */
  remove(): void;
}

export interface PlaceOptions {
  /** mkdtemp prefix in the OS temp folder, e.g. 'pdsm-test-'. */
  prefix: string;
  keyBase: number;
  port: number;
  /** Remote ids whose segments remove() deletes. */
  maxClients: number;
}

/** Places not removed yet: endChildrenOnSignals removes them too (their daemons leave segments in place by design). */
const livePlaces = new Set<Place>();

/** A private registry folder for `keyBase` and `port`. */
export function makePlace(o: PlaceOptions): Place {
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  const key = `0x${o.keyBase.toString(16)}`;
  const place: Place = {
    dir,
    keyBase: o.keyBase,
    key,
    port: o.port,
    args: ['-d', dir, '-k', key],
    remove() {
      livePlaces.delete(place);
      removeSegments(o.keyBase, o.maxClients);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  livePlaces.add(place);
  return place;
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stderr so far (with keepStderr false: its last 64 KiB or more); with a logFile, the file. */
  stderr(): string;
  /** stderr and, with keepStdout, stdout as they arrived; with a logFile, the file. */
  output(): string;
  /** Characters of stderr seen so far, a mark for stderrSince. */
  mark(): number;
  stderrSince(mark: number): string;
  /** Resolves once stderr matches; rejects after timeoutMs, or when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  alive(): boolean;
  /** The exit code, or the signal's name. */
  readonly exited: Promise<number | string>;
  /** Send `signal` (SIGTERM) by pid, SIGKILL after graceMs; resolves with how it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface WatchOptions {
  /** Names the process in errors (e.g. 'remote 2'); default: 'process'. */
  label?: string;
  /** false: keep only about the last 64 KiB of stderr (long traced runs). Default true. */
  keepStderr?: boolean;
  /** Keep stdout too, in output() (programs that answer on stdout). Default false. */
  keepStdout?: boolean;
  /**
   * The process writes stdout and stderr to this file instead of pipes (a node.exe under
   * Wine cannot write to a host pipe): stderr() and output() read it, waits poll it.
   */
  logFile?: string;
}

const running = new Set<ChildProcess>();
let exitHooked = false;
function killAll(): void {
  for (const c of running) {
    try {
      if (c.pid) process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function killAllAtExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAll);
}

let signalsHooked = false;

/** SIGKILL every child still running and remove every place (makePlace) not removed yet. */
function endEverything(): void {
  killAll();
  for (const place of [...livePlaces]) {
    try {
      place.remove();
    } catch {
      // best effort on the way out
    }
  }
}

/**
 * For test files: a signal's default action ends the process without 'exit' (a test
 * runner's timeout sends SIGTERM; tap's sends SIGALRM), so the children would outlive it,
 * holding segments and ports. After this call SIGTERM, SIGHUP and SIGALRM first SIGKILL every
 * child still running and remove every place (makePlace) not removed yet, segments and
 * folder; then the signal is raised again without this handler, so the process ends as it
 * would have (another handler, e.g. the runner's signal-exit, still runs). The same happens
 * at 'exit' (tap reports a timeout and exits; a place whose teardown never ran is removed).
 * Not for programs that handle those signals themselves (the demo stops its daemons
 * gracefully).
 */
export function endChildrenOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  process.on('exit', endEverything);
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGALRM'] as const) {
    const onSignal = (): void => {
      endEverything();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Keep `child`'s stderr, answer waits on it, stop it by pid; SIGKILLed at process exit if still running. */
export function watchProcess(child: ChildProcess, o: WatchOptions = {}): Proc {
  // A program that cannot start reports it as an 'error' event: not an uncaught exception.
  child.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${child.spawnargs.join(' ')}`);
  killAllAtExit();
  running.add(child);
  const label = `${o.label ?? 'process'} (pid ${pid})`;
  const keep = o.keepStderr ?? true;
  let piped = '';
  let out = '';
  let dropped = 0;
  const waiters = new Set<() => void>();
  const fromFile = (): string => (o.logFile !== undefined && existsSync(o.logFile) ? readFileSync(o.logFile, 'utf8') : '');
  const errText = (): string => (o.logFile !== undefined ? fromFile() : piped);
  const outputText = (): string => (o.logFile !== undefined ? fromFile() : o.keepStdout ? out : piped);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    piped += chunk;
    if (o.keepStdout) out += chunk;
    if (!keep && piped.length > 1 << 20) {
      dropped += piped.length - (64 << 10);
      piped = piped.slice(-(64 << 10));
    }
    for (const w of [...waiters]) w();
  });
  if (o.keepStdout) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      for (const w of [...waiters]) w();
    });
  } else child.stdout?.resume();
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      res(code ?? signal ?? 'unknown');
    }),
  );
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid,
    stderr: errText,
    output: outputText,
    mark: () => dropped + errText().length,
    stderrSince: (mark) => errText().slice(Math.max(0, mark - dropped)),
    alive,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      const seen = outputText; // what waitFor matches: stderr, plus stdout when kept, or the log file
      if (pattern.test(seen())) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(seen())) return;
          finish();
          resolve();
        };
        // A log file has no data events: poll it.
        const poll = o.logFile !== undefined ? setInterval(check, 100) : undefined;
        const finish = (): void => {
          clearTimeout(timer);
          if (poll) clearInterval(poll);
          waiters.delete(check);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${label}: timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${seen()}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then((how) => {
          if (!waiters.has(check)) return; // already settled
          if (pattern.test(seen())) return check();
          finish();
          reject(new Error(`${label} exited (${how}) before ${pattern}; output:\n${seen()}`));
        });
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 3000) {
      if (!alive()) return exited;
      try {
        process.kill(pid, signal);
      } catch {
        return exited;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

export interface SpawnOptions extends WatchOptions {
  env?: NodeJS.ProcessEnv;
  /** 'pipe' to talk to the program on stdin; default 'ignore'. */
  stdin?: 'ignore' | 'pipe';
  /** Where stdout goes: 'pipe' (read and dropped, the default) or a file descriptor. */
  stdout?: 'pipe' | number;
  /** Its own process group (the cluster harness kills groups). */
  detached?: boolean;
}

/** Start `command` with `args` (stdin ignored, stderr kept) and watch it. */
export function spawnProcess(command: string, args: string[], o: SpawnOptions = {}): Proc {
  const log = o.logFile !== undefined ? openSync(o.logFile, 'a') : undefined;
  const stdio: StdioOptions = [o.stdin ?? 'ignore', log ?? o.stdout ?? 'pipe', log ?? 'pipe'];
  try {
    const child = spawn(command, args, { env: { ...process.env, ...o.env }, stdio, ...(o.detached ? { detached: true } : {}) });
    return watchProcess(child, o);
  } finally {
    if (log !== undefined) closeSync(log); // the child has its own copy
  }
}

/**
 * `n` processes that each spin a core until stopped by pid (the busy node of issue 12): the
 * bench's and the tests' "two CPU-bound processes". Stop them with `stop('SIGKILL')`.
 */
export function cpuBound(n: number): Proc[] {
  return Array.from({ length: n }, () => spawnProcess(process.execPath, ['-e', 'for (;;) {}'], { label: 'cpu-bound' }));
}

/** Start a node script (a daemon bin, a helper) with this process's node. */
export function spawnNode(args: string[], o: SpawnOptions = {}): Proc {
  return spawnProcess(process.execPath, args, o);
}

/**
 * `pdsm flush [--client n] [--slice n | --bc] [--no-wait]`: have a running daemon scan and
 * send its outgoing flows now instead of at the next interval (README "Flush on demand"),
 * through the control socket. Prints one line per flow: what the scan did.
 */
import { PdsmError, usageError } from '../errors.js';
import { ControlClient } from '../daemon/control-client.js';
import { controlSocketPath } from '../daemon/control.js';
import type { FlushResult } from '../daemon/flush-gate.js';
import { registryDir } from '../segments/registry.js';
import { parseArgs, rejectPositionals } from './daemon-options.js';
import { PDSM_HELP } from './pdsm-help.js';
import { daemonName } from './pdsm-status.js';
import { parseInteger } from './values.js';

export const FLUSH_SPEC = {
  '--help': Boolean,
  '-h': '--help',
  '--registry-dir': String,
  '-d': '--registry-dir',
  '--client': String,
  '--slice': String,
  '--bc': Boolean,
  '--no-wait': Boolean,
  '--timeout': String,
} as const;

/** `mo 3: sent 2 pages` */
export function formatFlush(r: FlushResult): string {
  const name = r.client === undefined ? r.flow : `${r.flow} ${r.client}`;
  const pages = r.outcome === 'sent' ? ` ${r.pages} page${r.pages === 1 ? '' : 's'}` : '';
  return `${name}: ${r.outcome}${pages}`;
}

export async function flushCommand(argv: string[]): Promise<number> {
  const a = parseArgs(FLUSH_SPEC, argv);
  if (a['--help']) {
    process.stdout.write(PDSM_HELP);
    return 0;
  }
  rejectPositionals(a._);
  const client = a['--client'] === undefined ? undefined : parseInteger('--client', a['--client'], 0, 4095);
  const slice = a['--slice'] === undefined ? undefined : parseInteger('--slice', a['--slice'], 0, 4095);
  const timeoutMs = a['--timeout'] === undefined ? 10_000 : parseInteger('--timeout', a['--timeout'], 1, 3_600_000);
  if (client !== undefined && (slice !== undefined || a['--bc'])) throw usageError('--slice and --bc name flows of the master: not with --client');
  if (slice !== undefined && a['--bc']) throw usageError('--slice and --bc: give one of them');
  const request = a['--bc'] ? { flow: 'bc' } : slice !== undefined ? { flow: 'mo', client: slice } : {};
  const control = new ControlClient(controlSocketPath(registryDir(a['--registry-dir']), client));
  try {
    const answer = (await control.request({ cmd: 'flush', ...request, ...(a['--no-wait'] ? { wait: false } : {}) }, timeoutMs)) as { flushed: FlushResult[] };
    for (const r of answer.flushed) process.stdout.write(`${formatFlush(r)}\n`);
    return answer.flushed.some((r) => r.outcome === 'busy') ? 1 : 0;
  } catch (err) {
    if (err instanceof PdsmError) throw new PdsmError(err.code, `${daemonName(client)}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    control.close();
  }
}

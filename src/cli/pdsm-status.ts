/**
 * `pdsm status [--json] [--client n]`: ask a running daemon for its report over the control
 * socket and print it, as text laid out for an 80-column terminal, or as the report's JSON.
 * The text views are in pdsm-render.ts.
 */
import { PdsmError } from '../errors.js';
import { controlSocketPath, queryStatus } from '../daemon/control.js';
import type { DaemonReport } from '../daemon/status-report.js';
import { registryDir } from '../segments/registry.js';
import { parseArgs, rejectPositionals } from './daemon-options.js';
import { PDSM_HELP } from './pdsm-help.js';
import { parseInteger } from './values.js';
import { renderStatus } from './pdsm-render.js';
import { MAX_REMOTES } from '../segments/layout.js';

export const STATUS_SPEC = {
  '--help': Boolean,
  '-h': '--help',
  '--json': Boolean,
  '--registry-dir': String,
  '-d': '--registry-dir',
  '--client': String,
} as const;

/** The daemon a --client option names, for messages. */
export function daemonName(client: number | undefined): string {
  return client === undefined ? 'pdsm_master' : `pdsm_remote ${client}`;
}

/** Ask the daemon for its report; a daemon that does not answer is exit 1, naming the socket. */
export async function fetchReport(dir: string, client: number | undefined): Promise<DaemonReport> {
  const path = controlSocketPath(dir, client);
  try {
    return await queryStatus(path);
  } catch (err) {
    if (err instanceof PdsmError) throw new PdsmError(err.code, `${daemonName(client)}: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function statusCommand(argv: string[]): Promise<number> {
  const a = parseArgs(STATUS_SPEC, argv);
  if (a['--help']) {
    process.stdout.write(PDSM_HELP);
    return 0;
  }
  rejectPositionals(a._);
  const client = a['--client'] === undefined ? undefined : parseInteger('--client', a['--client'], 0, MAX_REMOTES - 1);
  const report = await fetchReport(registryDir(a['--registry-dir']), client);
  process.stdout.write(a['--json'] ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return 0;
}

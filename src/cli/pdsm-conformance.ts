/**
 * `pdsm conformance master --host H --port P [--psk-file F] [-d dir] [--client n] [--only id,...] [--list]`:
 * plays a remote against a master under test, case by case (src/conformance/), one line
 * per case (pass, fail with expected and seen, skip with why) and a summary line. Exit 0
 * when no case failed, 1 when one did (or the master could not be reached), 2 on usage.
 */
import { isIP } from 'node:net';
import { readKeyFile } from '../daemon/key-file.js';
import { usageError } from '../errors.js';
import { MAX_REMOTES } from '../udp/constants.js';
import { resolveHost } from '../udp/socket.js';
import type { MasterContext } from '../conformance/case.js';
import { MASTER_CASES, runCases } from '../conformance/cases.js';
import type { Target } from '../conformance/probe.js';
import { discover, RejectBudget } from '../conformance/session.js';
import { parseArgs, rejectPositionals } from './daemon-options.js';
import { PDSM_HELP } from './pdsm-help.js';
import { parseInteger } from './values.js';

const SPEC = {
  '--help': Boolean,
  '-h': '--help',
  '--host': String,
  '--port': String,
  '--psk-file': String,
  '--client': String,
  '--only': String,
  '--list': Boolean,
  '--registry-dir': String,
  '-d': '--registry-dir',
  '-y': String,
} as const;

export async function conformanceCommand(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const [role, ...rest] = argv;
  if (role === '-h' || role === '--help') {
    write(PDSM_HELP);
    return 0;
  }
  if (role === 'remote') throw usageError('conformance remote: not implemented yet (only "conformance master" is)');
  if (role !== 'master') throw usageError(`conformance: the role "${role ?? ''}" is not "master" (conformance master --host H --port P)`);
  const a = parseArgs(SPEC, rest);
  if (a['--help']) {
    write(PDSM_HELP);
    return 0;
  }
  rejectPositionals(a._);
  const only = a['--only']?.split(',').map((s) => s.trim());
  const unknown = only?.find((id) => !MASTER_CASES.some((c) => c.id === id));
  if (unknown !== undefined) throw usageError(`--only: no case "${unknown}" (see --list)`);
  const cases = only ? MASTER_CASES.filter((c) => only.includes(c.id)) : MASTER_CASES;
  if (a['--list']) {
    for (const c of cases) write(`${c.id}  §${c.section}  ${c.requirement}\n`);
    return 0;
  }
  if (a['--host'] === undefined) throw usageError('--host: the master under test (a name or address) is required');
  if (a['--port'] === undefined) throw usageError('--port: the master’s UDP port is required');
  const port = parseInteger('--port', a['--port'], 1, 65535);
  const client = a['--client'] === undefined ? 0 : parseInteger('--client', a['--client'], 0, MAX_REMOTES - 1);
  if (a['-y'] !== undefined && a['-y'] !== '6') throw usageError(`-y: "${a['-y']}" is not 6 (the only accepted value)`);
  const family = a['-y'] === '6' || isIP(a['--host']) === 6 ? 6 : 4;
  const psk = a['--psk-file'] === undefined ? null : readKeyFile(a['--psk-file']);
  const host = await resolveHost(a['--host'], family);
  const target: Target = { host, port, family, psk };
  const budget = new RejectBudget();
  const params = await discover(target, client, budget);
  if (typeof params === 'string') {
    process.stderr.write(`pdsm conformance: ${params}\n`);
    return 1;
  }
  write(
    `conformance master ${host}:${port}${psk ? ' (sealed)' : ''}: client ${client} of ${params.clientCount}, page ${params.pageSize}, ` +
      `Seg_size ${params.segSize}, BC_size ${params.bcSize}, W ${params.wordSize}\n`,
  );
  const ctx: MasterContext = { target, params, client, budget, registryDir: a['--registry-dir'] ?? null };
  const s = await runCases(cases, ctx, (line) => write(`${line}\n`));
  write(`${cases.length} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
  return s.failed === 0 ? 0 : 1;
}

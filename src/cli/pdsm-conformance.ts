/**
 * `pdsm conformance master --host H --port P [--psk-file F] [-d dir] [--client n] [--only id,...] [--list]`:
 * plays a remote against a master under test, case by case (src/conformance/), one line
 * per case (pass, fail with expected and seen, skip with why) and a summary line. Exit 0
 * when no case failed, 1 when one did (or the master could not be reached), 2 on usage.
 * `pdsm conformance remote --master-port P ...` plays a master on port P against a remote
 * under test that the user starts pointing at it, the same way.
 */
import { isIP } from 'node:net';
import { readKeyFile } from '../daemon/key-file.js';
import { usageError } from '../errors.js';
import { MAX_REMOTES } from '../udp/constants.js';
import { resolveHost } from '../udp/socket.js';
import type { MasterContext, RemoteContext } from '../conformance/case.js';
import { MASTER_CASES, REMOTE_CASES, runCases } from '../conformance/cases.js';
import { Probe, type Target } from '../conformance/probe.js';
import { reportRequirements } from '../conformance/report.js';
import { WireTally } from '../conformance/wire-tally.js';
import { discover, freshEpoch, RejectBudget } from '../conformance/session.js';
import { isHelloArrival } from '../conformance/master-play.js';
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
  '--master-port': String,
  '--listen': String,
  '--wait': String,
} as const;

export async function conformanceCommand(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const [role, ...rest] = argv;
  if (role === '-h' || role === '--help') {
    write(PDSM_HELP);
    return 0;
  }
  if (role !== 'master' && role !== 'remote') {
    throw usageError(
      `conformance: the role "${role ?? ''}" is neither "master" (conformance master --host H --port P) nor "remote" (conformance remote --master-port P)`,
    );
  }
  const a = parseArgs(SPEC, rest);
  if (a['--help']) {
    write(PDSM_HELP);
    return 0;
  }
  rejectPositionals(a._);
  if (role === 'remote') return remoteRun(a, write);
  for (const o of ['--master-port', '--listen', '--wait'] as const) if (a[o] !== undefined) throw usageError(`${o}: only for "conformance remote"`);
  const cases = selected(MASTER_CASES, a['--only']);
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
  const tally = new WireTally(psk !== null);
  Probe.observe = (arrival, probePort) => tally.add(arrival, probePort);
  const params = await discover(target, client, budget);
  if (typeof params === 'string') {
    process.stderr.write(`pdsm conformance: ${params}\n`);
    return 1;
  }
  write(
    `conformance master ${host}:${port}${psk ? ' (sealed)' : ''}: client ${client} of ${params.clientCount}, page ${params.pageSize}, ` +
      `Seg_size ${params.segSize}, BC_size ${params.bcSize}, W ${params.wordSize}\n`,
  );
  const ctx: MasterContext = { target, params, client, budget, registryDir: a['--registry-dir'] ?? null, tally };
  const s = await runCases(cases, ctx, (line) => write(`${line}\n`));
  write(`${cases.length} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
  reportRequirements('master', s.outcomes, (line) => write(`${line}\n`));
  return s.failed === 0 ? 0 : 1;
}

/** Pick the cases --only names (all without it); a usage error for an id that is none. */
function selected<C extends { id: string }>(all: readonly C[], only: string | undefined): readonly C[] {
  const ids = only?.split(',').map((s) => s.trim());
  const unknown = ids?.find((id) => !all.some((c) => c.id === id));
  if (unknown !== undefined) throw usageError(`--only: no case "${unknown}" (see --list)`);
  return ids ? all.filter((c) => ids.includes(c.id)) : all;
}

/** `pdsm conformance remote --master-port P [--listen A] [--psk-file F] [-d dir] [--wait s] [--only ...] [--list] [-y 6]`. */
async function remoteRun(a: ReturnType<typeof parseArgs<typeof SPEC>>, write: (s: string) => void): Promise<number> {
  const cases = selected(REMOTE_CASES, a['--only']);
  if (a['--list']) {
    for (const c of cases) write(`${c.id}  §${c.section}  ${c.requirement}\n`);
    return 0;
  }
  for (const o of ['--host', '--port', '--client'] as const)
    if (a[o] !== undefined) throw usageError(`${o}: only for "conformance master" (the remote says its client id in HELLO)`);
  if (a['--master-port'] === undefined)
    throw usageError('--master-port: the UDP port to play the master on (the remote under test is started with -P on it) is required');
  const port = parseInteger('--master-port', a['--master-port'], 1, 65535);
  const waitS = a['--wait'] === undefined ? 30 : parseInteger('--wait', a['--wait'], 1, 3600);
  if (a['-y'] !== undefined && a['-y'] !== '6') throw usageError(`-y: "${a['-y']}" is not 6 (the only accepted value)`);
  const family = a['-y'] === '6' || (a['--listen'] !== undefined && isIP(a['--listen']) === 6) ? 6 : 4;
  const listen = a['--listen'] ?? (family === 6 ? '::1' : '127.0.0.1');
  const psk = a['--psk-file'] === undefined ? null : readKeyFile(a['--psk-file']);
  let probe: Probe;
  try {
    probe = await Probe.open({ host: listen, port: 0, family, psk }, { address: listen, port });
  } catch (err) {
    process.stderr.write(`pdsm conformance: cannot bind UDP ${listen}:${port}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    write(`conformance remote: playing a master on ${listen}:${port}${psk ? ' (sealed)' : ''}; waiting up to ${waitS} s for the remote's HELLO\n`);
    const ctx: RemoteContext = {
      probe,
      psk,
      family,
      masterEpoch: freshEpoch(),
      registryDir: a['--registry-dir'] ?? null,
      firstHelloMs: waitS * 1000,
      cursor: 0,
      spent: new Set(),
    };
    // Nothing to judge without a remote: a runtime failure, not a run of failed cases.
    if ((await probe.find(isHelloArrival, ctx.firstHelloMs)) === undefined) {
      process.stderr.write(`pdsm conformance: no HELLO from a remote on ${listen}:${port} within ${waitS} s (--wait)\n`);
      return 1;
    }
    const s = await runCases(cases, ctx, (line) => write(`${line}\n`));
    write(`${cases.length} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
    reportRequirements('remote', s.outcomes, (line) => write(`${line}\n`));
    return s.failed === 0 ? 0 : 1;
  } finally {
    await probe.close();
  }
}

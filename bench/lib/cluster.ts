/**
 * Real daemons on loopback for the benchmarks: a private registry folder, SysV key base and
 * UDP port per cluster, processes stopped by pid, segments removed and the folder deleted
 * at the end, also on error or Ctrl-C (the runner calls `cleanupAll`).
 *
 * Processes, places and waits are the one kit of src/cli/launch.ts (the demo and the tests
 * use it too); this file adds the benchmarks' cleanup list and their daemon arguments.
 */
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, freeUdpPort, makePlace, randomKeyBase, spawnProcess as spawnWatched, type Proc } from '../../src/cli/launch.js';

export { BIN, ROOT, freeUdpPort, type Proc };
export const TS_LOADER = '@isaacs/ts-node-temp-fork-for-pr-2009/import';

/** Things to undo at exit, newest first. */
const cleanups = new Map<number, () => void | Promise<void>>();
let nextCleanup = 0;

export function onCleanup(fn: () => void | Promise<void>): () => void {
  const id = nextCleanup++;
  cleanups.set(id, fn);
  return () => cleanups.delete(id);
}

/** Run every registered cleanup (processes by pid, segments, folders); never throws. */
export async function cleanupAll(): Promise<void> {
  for (const [id, fn] of [...cleanups.entries()].reverse()) {
    cleanups.delete(id);
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`bench cleanup: ${(err as Error).message}\n`);
    }
  }
}

/** The bins run the built JavaScript: refuse to measure without it. */
export function checkBuilt(): void {
  const master = join(ROOT, 'dist/src/cli/pdsm-master.js');
  if (!existsSync(master)) throw new Error(`${master} is missing: run \`npm run build\` first`);
}

/** A TCP port free on 127.0.0.1 right now (bound to port 0, read, closed). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface Place {
  dir: string;
  keyBase: number;
  port: number;
  /** -d DIR -k KEY */
  args: string[];
}

/** A private registry folder, key base and port; removed (segments too) at cleanup. */
export async function newPlace(maxClients: number): Promise<Place> {
  // Same range as the tests use, away from the default key base 0x314158.
  const place = makePlace({ prefix: 'pdsm-bench-', keyBase: randomKeyBase(0x20000000, 0x3fff), port: await freeUdpPort(), maxClients });
  onCleanup(() => place.remove());
  return place;
}

/**
 * Spawn a node process (a daemon bin, or a bench helper with the TypeScript loader) and
 * keep its stderr. `keepStderr` false keeps only the last 64 KiB (long traced runs).
 */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}, keepStderr = true): Proc {
  return spawnProcess(process.execPath, args, env, keepStderr);
}

/**
 * Spawn any program (redis-server, or node through `spawnNode`), stopped by pid with
 * SIGTERM (then SIGKILL after 2 s) at cleanup. Its stderr is kept as for `spawnNode`; its
 * stdout is read and dropped.
 */
export function spawnProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}, keepStderr = true): Proc {
  const p = spawnWatched(command, args, {
    env,
    keepStderr,
    label: command === process.execPath ? (args.find((a) => a.endsWith('.js') || a.endsWith('.ts')) ?? 'node') : command,
  });
  const forget = onCleanup(async () => void (await p.stop('SIGTERM', 2000)));
  void p.exited.then(forget);
  return p;
}

/** A bench helper (bench/peers/*.ts) in its own process, through the TypeScript loader. */
export function spawnHelper(file: string, args: string[]): Proc {
  return spawnNode(['--import', TS_LOADER, join(ROOT, 'bench', file), ...args]);
}

export interface DaemonOptions {
  intervalMs: number;
  remotes: number;
  size: string;
  extra?: string[];
  env?: NodeJS.ProcessEnv;
  keepStderr?: boolean;
}

/** PDSM_BENCH_CPU_PROF=DIR: profile every daemon (written when it stops), to see what limits a figure. */
function profileArgs(): string[] {
  const prof = process.env['PDSM_BENCH_CPU_PROF'];
  return prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
}

export async function startMaster(place: Place, o: DaemonOptions): Promise<Proc> {
  const args = [
    ...profileArgs(),
    BIN.master,
    ...place.args,
    '-p',
    String(o.remotes),
    '-s',
    o.size,
    '-i',
    String(o.intervalMs),
    '-P',
    String(place.port),
    '-L',
    '127.0.0.1',
    ...(o.extra ?? []),
  ];
  const p = spawnNode(args, o.env, o.keepStderr ?? true);
  await p.waitFor(/running/);
  return p;
}

export async function startRemote(place: Place, id: number, o: DaemonOptions): Promise<Proc> {
  const args = [
    ...profileArgs(),
    BIN.remote,
    ...place.args,
    '-n',
    String(id),
    '-s',
    o.size,
    '-i',
    String(o.intervalMs),
    '-P',
    String(place.port),
    '-H',
    '127.0.0.1',
    ...(o.extra ?? []),
  ];
  const p = spawnNode(args, o.env, o.keepStderr ?? true);
  await p.waitFor(/running/);
  await p.waitFor(/joined master/);
  return p;
}

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number, ticksPerSecond = 100): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 14 is fields[11] and field 15 is fields[12].
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Block this thread for `ms` (sub-millisecond) without spinning: Atomics.wait on a private cell. */
const waitCell = new Int32Array(new SharedArrayBuffer(4));
export function blockFor(ms: number): void {
  Atomics.wait(waitCell, 0, 0, ms);
}

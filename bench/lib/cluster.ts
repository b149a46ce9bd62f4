/**
 * Real daemons on loopback for the benchmarks: a private registry folder, SysV key base and
 * UDP port per cluster, processes stopped by pid, segments removed and the folder deleted
 * at the end, also on error or Ctrl-C (the runner calls `cleanupAll`).
 *
 * This is a small copy of the approach of test/fixtures/cluster.ts and daemon.ts, so the
 * benchmarks do not depend on test code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { masterKeys, remoteKeys } from '../../src/segments/layout.js';
import { Segment } from '../../src/segments/segment.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const BIN = {
  master: join(ROOT, 'bin/pdsm_master.js'),
  remote: join(ROOT, 'bin/pdsm_remote.js'),
};
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

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
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
  const dir = mkdtempSync(join(tmpdir(), 'pdsm-bench-'));
  // Same range as the tests use, away from the default key base 0x314158.
  const keyBase = 0x20000000 + (randomInt(0, 0x3fff) << 16);
  const port = await freeUdpPort();
  const place: Place = { dir, keyBase, port, args: ['-d', dir, '-k', `0x${keyBase.toString(16)}`] };
  onCleanup(() => removePlace(place, maxClients));
  return place;
}

export function removePlace(place: Place, maxClients: number): void {
  const keys = [masterKeys(place.keyBase)];
  for (let n = 0; n < maxClients; n++) keys.push(remoteKeys(n, place.keyBase));
  for (const k of keys) for (const key of Object.values(k)) Segment.remove(key);
  rmSync(place.dir, { recursive: true, force: true });
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  /** Bytes of stderr seen so far (a mark for `stderrSince`). */
  mark(): number;
  stderrSince(mark: number): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(timeoutMs?: number): Promise<void>;
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
 * SIGTERM (then SIGKILL) at cleanup. Its stderr is kept as for `spawnNode`; its stdout is
 * read and dropped.
 */
export function spawnProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}, keepStderr = true): Proc {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A program that cannot start reports it as an 'error' event (no pid): keep it from
  // becoming an uncaught exception; the throw below says what failed.
  child.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot spawn ${command} ${args.join(' ')}`);
  let err = '';
  let dropped = 0;
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
    if (!keepStderr && err.length > 1 << 20) {
      dropped += err.length - (64 << 10);
      err = err.slice(-(64 << 10));
    }
    for (const w of [...waiters]) if (w.pattern.test(err)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  child.stdout!.resume();
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const stop = async (timeoutMs = 3000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    await exited;
    clearTimeout(timer);
  };
  const forget = onCleanup(() => stop(2000));
  void exited.then(forget);
  return {
    child,
    pid,
    stderr: () => err,
    mark: () => dropped + err.length,
    stderrSince: (mark) => err.slice(Math.max(0, mark - dropped)),
    waitFor(pattern, timeoutMs = 15_000) {
      if (pattern.test(err)) return Promise.resolve();
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timed out waiting for ${pattern}; stderr:\n${err.slice(-2000)}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => { clearTimeout(timer); res(); } });
        void exited.then(() => {
          clearTimeout(timer);
          if (!pattern.test(err)) rej(new Error(`process exited before ${pattern}; stderr:\n${err.slice(-2000)}`));
        });
      });
    },
    stop,
  };
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

export async function startMaster(place: Place, o: DaemonOptions): Promise<Proc> {
  // PDSM_BENCH_CPU_PROF=DIR: profile the master (written when it stops), to see what limits a figure.
  const prof = process.env['PDSM_BENCH_CPU_PROF'];
  const args = [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), BIN.master, ...place.args, '-p', String(o.remotes), '-s', o.size, '-i', String(o.intervalMs),
    '-P', String(place.port), '-L', '127.0.0.1', ...(o.extra ?? [])];
  const p = spawnNode(args, o.env, o.keepStderr ?? true);
  await p.waitFor(/running/);
  return p;
}

export async function startRemote(place: Place, id: number, o: DaemonOptions): Promise<Proc> {
  const args = [BIN.remote, ...place.args, '-n', String(id), '-s', o.size, '-i', String(o.intervalMs),
    '-P', String(place.port), '-H', '127.0.0.1', ...(o.extra ?? [])];
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

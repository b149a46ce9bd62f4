/**
 * `npm start`: a local demo cluster. A master and three remotes on loopback, with a
 * private registry folder, key base and port (no root needed), writers storing counters
 * on every side, and a live view of what each side sees and how long a store takes to
 * become visible on the other side. Ends after --duration seconds or on Ctrl-C, and
 * cleans up: processes ended by pid, segments and files removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { attachMaster, attachRemote, PeerState, type MasterNode, type RemoteNode } from '../index.js';
import { masterKeys, remoteKeys } from '../segments/layout.js';
import { Segment } from '../segments/segment.js';
import { parseArgs, rejectPositionals, reportError } from './daemon-options.js';
import { parseInteger } from './values.js';

export const DEMO_HELP = `Usage: npm start -- [--duration seconds] [--remotes n] [--interval ms]

Runs a local PDSM cluster on loopback: one master and --remotes remotes (default 3),
each a real pdsm_master / pdsm_remote process with a private registry folder and key
base. Writers store counters into every RO segment and every MO slice; the view shows
what each side sees and the delay from a store to its visibility on the other side.

  --duration seconds   stop by itself after this long (default: run until Ctrl-C)
  --remotes n          number of remotes, 1..16 (default 3)
  --interval ms        the daemons' scan interval -i (default 100)
  -h, --help           show this help
`;

const SPEC = { '--help': Boolean, '-h': '--help', '--duration': String, '--remotes': String, '--interval': String } as const;

/** Delays seen on one flow: store on one side to visible on the other. */
class Delays {
  samples: number[] = [];
  last = 0n;
  add(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > 2000) this.samples.splice(0, 1000);
  }
  quantile(q: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const s = [...this.samples].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
  }
}

const fmt = (ms: number | undefined): string => (ms === undefined ? '   -  ' : `${ms.toFixed(1).padStart(6)}`);
const STATE = ['unknown', 'joining', 'up', 'down'];

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((res, rej) => {
    let seen = '';
    const timer = setTimeout(() => rej(new Error(`timed out waiting for ${pattern}:\n${seen}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        res();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`daemon exited (${code}) before ${pattern}:\n${seen}`));
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  let duration: number | undefined;
  let remotes: number;
  let interval: number;
  try {
    const a = parseArgs(SPEC, argv);
    rejectPositionals(a._);
    if (a['--help']) {
      process.stdout.write(DEMO_HELP);
      return 0;
    }
    duration = a['--duration'] === undefined ? undefined : parseInteger('--duration', a['--duration'], 1, 86_400);
    remotes = a['--remotes'] === undefined ? 3 : parseInteger('--remotes', a['--remotes'], 1, 16);
    interval = a['--interval'] === undefined ? 100 : parseInteger('--interval', a['--interval'], 1, 10_000);
  } catch (err) {
    return reportError('pdsm demo', err);
  }

  const root = resolve(fileURLToPath(import.meta.url), '../../../..');
  const dir = mkdtempSync(join(tmpdir(), 'pdsm-demo-'));
  const keyBase = 0x30000000 + (randomInt(0, 0x0fff) << 16);
  const key = `0x${keyBase.toString(16)}`;
  const port = String(await freePort());
  const children: ChildProcess[] = [];
  const attached: { detach(): void }[] = [];
  const timers: NodeJS.Timeout[] = [];
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const t of timers) clearInterval(t);
    for (const a of attached) a.detach();
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
            setTimeout(() => { c.kill('SIGKILL'); r(); }, 3000).unref();
          }),
      ),
    );
    for (const k of [masterKeys(keyBase), ...Array.from({ length: remotes }, (_, n) => remoteKeys(n, keyBase))]) {
      for (const id of Object.values(k)) Segment.remove(id);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const stopped = new Promise<string>((res) => {
    process.once('SIGINT', () => res('Ctrl-C'));
    process.once('SIGTERM', () => res('SIGTERM'));
    if (duration !== undefined) setTimeout(() => res(`${duration} s elapsed`), duration * 1000);
  });

  try {
    const log = openSync(join(dir, 'daemons.log'), 'a');
    const common = ['-d', dir, '-k', key, '-P', port, '-i', String(interval)];
    const startDaemon = async (bin: string, args: string[], ready: RegExp): Promise<void> => {
      const child = spawn(process.execPath, [join(root, 'bin', bin), ...common, ...args], { stdio: ['ignore', log, 'pipe'] });
      children.push(child);
      await waitForLine(child, ready, 10_000);
    };
    process.stdout.write(`pdsm demo: registry ${dir}, key base ${key}, UDP port ${port}, interval ${interval} ms\n`);
    await startDaemon('pdsm_master.js', ['-p', String(remotes), '-L', '127.0.0.1'], /running/);
    for (let n = 0; n < remotes; n++) await startDaemon('pdsm_remote.js', ['-n', String(n), '-H', '127.0.0.1'], /^(?=[\s\S]*joined master)(?=[\s\S]*running)/);
    closeSync(log);

    const master: MasterNode = attachMaster({ registryDir: dir });
    attached.push(master);
    const nodes: RemoteNode[] = [];
    for (let n = 0; n < remotes; n++) {
      const r = attachRemote({ registryDir: dir, clientId: n });
      attached.push(r);
      nodes.push(r);
    }
    // Writers: a counter and the time it was stored (monotonic ns), written whole.
    let tick = 0n;
    timers.push(setInterval(() => {
      tick++;
      const now = process.hrtime.bigint();
      for (let n = 0; n < remotes; n++) {
        master.writeConsistent(n, () => {
          master.moSlice(n).writeBigUInt64LE(tick, 0);
          master.moSlice(n).writeBigUInt64LE(now, 8);
        });
        nodes[n]!.writeConsistent(() => {
          nodes[n]!.ro.writeBigUInt64LE(tick, 0);
          nodes[n]!.ro.writeBigUInt64LE(now, 8);
        });
      }
    }, 10));
    // Readers: when a counter changes on the far side, how old is the store it shows?
    const moDelay = nodes.map(() => new Delays());
    const roDelay = nodes.map(() => new Delays());
    const seen = { mo: nodes.map(() => [0n, 0n]), ro: nodes.map(() => [0n, 0n]) };
    timers.push(setInterval(() => {
      const now = process.hrtime.bigint();
      for (let n = 0; n < remotes; n++) {
        const mo = nodes[n]!.readConsistent('mo', () => [nodes[n]!.mo.readBigUInt64LE(0), nodes[n]!.mo.readBigUInt64LE(8)]);
        if (mo[0]! !== seen.mo[n]![0]) moDelay[n]!.add(Number(now - mo[1]!) / 1e6);
        seen.mo[n] = mo;
        const ro = master.readConsistent(n, () => [master.roSlice(n).readBigUInt64LE(0), master.roSlice(n).readBigUInt64LE(8)]);
        if (ro[0]! !== seen.ro[n]![0]) roDelay[n]!.add(Number(now - ro[1]!) / 1e6);
        seen.ro[n] = ro;
      }
    }, 1));
    const tty = process.stdout.isTTY === true;
    const started = Date.now();
    const render = (): string => {
      const lines = [
        `PDSM demo  ${((Date.now() - started) / 1000).toFixed(0)} s  master + ${remotes} remotes on 127.0.0.1:${port}  -i ${interval} ms  ${duration ? `(ends after ${duration} s)` : '(Ctrl-C to stop)'}`,
        '',
        'remote  state | MO: master -> remote          | RO: remote -> master',
        '              | written  seen   p50 ms  max ms | written  seen   p50 ms  max ms',
      ];
      for (let n = 0; n < remotes; n++) {
        const st = STATE[master.status('ro', n).peerState] ?? '?';
        const m = moDelay[n]!;
        const r = roDelay[n]!;
        lines.push(
          `${String(n).padStart(6)}  ${st.padEnd(5)} | ${String(tick).padStart(7)} ${String(seen.mo[n]![0]).padStart(6)} ${fmt(m.quantile(0.5))} ${fmt(m.quantile(1))}  | ${String(tick).padStart(7)} ${String(seen.ro[n]![0]).padStart(6)} ${fmt(r.quantile(0.5))} ${fmt(r.quantile(1))}`,
        );
      }
      lines.push('', `written: the writer's counter; seen: the counter the other side shows now.`,
        `p50/max ms: how old a store was when it became visible on the other side (writers store`,
        `every 10 ms; the daemons scan every ${interval} ms, so a store waits at most one scan plus the wire).`);
      return lines.join('\n') + '\n';
    };
    timers.push(setInterval(() => process.stdout.write(tty ? `\x1b[H\x1b[2J${render()}` : render()), tty ? 500 : 2000));
    const why = await stopped;
    for (const t of timers) clearInterval(t);
    process.stdout.write(`\n${render()}stopping (${why}): ending daemons, removing segments and ${dir}\n`);
    const up = Array.from({ length: remotes }, (_, n) => master.status('ro', n).peerState === PeerState.UP).every(Boolean);
    await cleanup();
    return up ? 0 : 1;
  } catch (err) {
    await cleanup();
    return reportError('pdsm demo', err);
  }
}

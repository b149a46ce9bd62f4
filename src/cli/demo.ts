/**
 * `npm start`: a local demo cluster. A master and three remotes on loopback, with a
 * private registry folder, key base and port (no root needed), writers storing counters
 * on every side, and a live view of what each side sees and how long a store takes to
 * become visible on the other side. Ends after --duration seconds or on Ctrl-C, and
 * cleans up: processes ended by pid, segments and files removed. The daemons are started
 * with the kit the tests and benchmarks use (./launch.ts).
 */
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { attachMaster, attachRemote, PeerState, type MasterNode, type RemoteNode } from '../index.js';
import { parseArgs, rejectPositionals, reportError } from './daemon-options.js';
import { BIN, freeUdpPort, makePlace, randomKeyBase, spawnNode, type Proc } from './launch.js';
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

  // 0x30000000..: away from the tests' key bases and the default 0x314158.
  const place = makePlace({ prefix: 'pdsm-demo-', keyBase: randomKeyBase(0x30000000, 0x0fff), port: await freeUdpPort(), maxClients: remotes });
  const { dir, key } = place;
  const port = String(place.port);
  const children: Proc[] = [];
  const attached: { detach(): void }[] = [];
  const timers: NodeJS.Timeout[] = [];
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const t of timers) clearInterval(t);
    for (const a of attached) a.detach();
    await Promise.all(children.map((c) => c.stop('SIGTERM', 3000)));
    place.remove();
  };
  const stopped = new Promise<string>((res) => {
    process.once('SIGINT', () => res('Ctrl-C'));
    process.once('SIGTERM', () => res('SIGTERM'));
    if (duration !== undefined) setTimeout(() => res(`${duration} s elapsed`), duration * 1000);
  });

  try {
    const log = openSync(join(dir, 'daemons.log'), 'a');
    const common = ['-d', dir, '-k', key, '-P', port, '-i', String(interval)];
    const startDaemon = async (bin: string, args: string[], ready: RegExp[]): Promise<void> => {
      // stdout to the log file; stderr kept (its last 64 KiB) for the waits and their errors.
      const child = spawnNode([bin, ...common, ...args], {
        stdout: log,
        keepStderr: false,
        label: args.includes('-n') ? `remote ${args[args.indexOf('-n') + 1]}` : 'master',
      });
      children.push(child);
      for (const pattern of ready) await child.waitFor(pattern, 10_000);
    };
    process.stdout.write(`pdsm demo: registry ${dir}, key base ${key}, UDP port ${port}, interval ${interval} ms\n`);
    await startDaemon(BIN.master, ['-p', String(remotes), '-L', '127.0.0.1'], [/running/]);
    for (let n = 0; n < remotes; n++) await startDaemon(BIN.remote, ['-n', String(n), '-H', '127.0.0.1'], [/joined master/, /running/]);
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
    timers.push(
      setInterval(() => {
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
      }, 10),
    );
    // Readers: when a counter changes on the far side, how old is the store it shows?
    const moDelay = nodes.map(() => new Delays());
    const roDelay = nodes.map(() => new Delays());
    const seen = { mo: nodes.map(() => [0n, 0n]), ro: nodes.map(() => [0n, 0n]) };
    timers.push(
      setInterval(() => {
        const now = process.hrtime.bigint();
        for (let n = 0; n < remotes; n++) {
          const mo = nodes[n]!.readConsistent('mo', () => [nodes[n]!.mo.readBigUInt64LE(0), nodes[n]!.mo.readBigUInt64LE(8)]);
          if (mo[0]! !== seen.mo[n]![0]) moDelay[n]!.add(Number(now - mo[1]!) / 1e6);
          seen.mo[n] = mo;
          const ro = master.readConsistent(n, () => [master.roSlice(n).readBigUInt64LE(0), master.roSlice(n).readBigUInt64LE(8)]);
          if (ro[0]! !== seen.ro[n]![0]) roDelay[n]!.add(Number(now - ro[1]!) / 1e6);
          seen.ro[n] = ro;
        }
      }, 1),
    );
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
      lines.push(
        '',
        `written: the writer's counter; seen: the counter the other side shows now.`,
        `p50/max ms: how old a store was when it became visible on the other side (writers store`,
        `every 10 ms; the daemons scan every ${interval} ms, so a store waits at most one scan plus the wire).`,
      );
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

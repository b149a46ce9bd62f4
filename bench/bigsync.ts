/**
 * Issue 12, big segments: the cold join of one remote to a master on loopback (-i 1000).
 * Random bytes fill the master's MO slice before the remote starts (they travel as the
 * session's full batch) and the remote's RO right after its join (a batch of every page the
 * other way). Per row:
 * - time from the remote's start to MO, then RO, byte-identical on both sides (this process
 *   compares the segments every 200 ms through the library);
 * - the MO full resync as datagrams per second (one DATA per 1 KiB page, start of the remote
 *   to MO identical, so the join is included) beside the raw datagram rate of the same run:
 *   a helper process blasting datagrams of the same size at one socket of this process;
 * - datagrams the kernel dropped at either daemon's socket (/proc/net/udp) and RcvbufErrors
 *   of the whole namespace;
 * - sessions each side opened (1 = no flap), from the daemons' own counters in `pdsm status`;
 * - event-loop delay of both daemons (worst p99 and max that `pdsm status` reported during
 *   the run, sampled every second).
 * One row repeats 64 MiB beside two CPU-bound processes (the busy node of the issue).
 *
 *   npm run bench -- bigsync            (PDSM_BENCH_BIGSYNC=64M,256M picks the sizes)
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import type { DaemonReport } from '../src/daemon/status-report.js';
import { attachMaster, attachRemote } from '../src/index.js';
import { cpuBound } from '../src/cli/launch.js';
import { BIN, newPlace, onCleanup, sleep, startMaster, startRemote, type Proc } from './lib/cluster.js';
import { num, ratio, targetLine, type BenchResult } from './lib/report.js';
import { rawRate, rcvbufErrors, socketDrops, udpPortsOf } from './lib/udp.js';

const MIB = 1024 * 1024;
const PAGE = 1024;
const DATA_BYTES = 40 + PAGE; // one DATA datagram of a page
const BOUND_MS = 180_000;
const INTERVAL_MS = 1000;

interface Row {
  label: string;
  mib: number;
  burners: number;
}

interface Outcome {
  row: Row;
  moMs: number | undefined;
  bothMs: number | undefined;
  moRate: number;
  drops: number;
  rcvbuf: number;
  sessions: { master: number; remote: number };
  loop: { master: { p99: number; max: number }; remote: { p99: number; max: number } };
}

function fillRandom(b: Buffer): void {
  for (let at = 0; at < b.length; at += MIB) randomFillSync(b, at, Math.min(MIB, b.length - at));
}

function status(dir: string, client?: number): DaemonReport | undefined {
  const r = spawnSync(process.execPath, [BIN.pdsm, 'status', '--json', '-d', dir, ...(client === undefined ? [] : ['--client', String(client)])], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0 ? (JSON.parse(r.stdout) as DaemonReport) : undefined;
}

async function coldJoin(row: Row): Promise<Outcome> {
  const burners = cpuBound(row.burners);
  const forget = onCleanup(async () => void (await Promise.all(burners.map((b) => b.stop('SIGKILL', 2000)))));
  const place = await newPlace(1);
  const size = `${row.mib}M`;
  const daemon = { intervalMs: INTERVAL_MS, remotes: 1, size, keepStderr: false };
  let master: Proc | undefined;
  let remote: Proc | undefined;
  try {
    master = await startMaster(place, daemon);
    const early = attachMaster({ registryDir: place.dir });
    fillRandom(early.moSlice(0));
    early.detach();
    const rcvbuf0 = rcvbufErrors();
    const began = performance.now();
    remote = await startRemote(place, 0, daemon);
    const ports = new Set([...udpPortsOf(master.pid), ...udpPortsOf(remote.pid)]);
    const drops0 = socketDrops(ports);
    const m = attachMaster({ registryDir: place.dir });
    const r = attachRemote({ registryDir: place.dir, clientId: 0 });
    const undo = onCleanup(() => {
      m.detach();
      r.detach();
    });
    fillRandom(r.ro);
    const loop = { master: { p99: 0, max: 0 }, remote: { p99: 0, max: 0 } };
    const sample = (): void => {
      for (const [who, d] of [
        ['master', status(place.dir)],
        ['remote', status(place.dir, 0)],
      ] as const) {
        if (!d?.loopDelay) continue;
        loop[who].p99 = Math.max(loop[who].p99, d.loopDelay.p99Ms);
        loop[who].max = Math.max(loop[who].max, d.loopDelay.maxMs);
      }
    };
    let moMs: number | undefined;
    let bothMs: number | undefined;
    let lastSample = 0;
    const deadline = began + BOUND_MS;
    while (bothMs === undefined && performance.now() < deadline) {
      await sleep(200);
      const now = performance.now();
      if (moMs === undefined && m.moSlice(0).equals(r.mo)) moMs = now - began;
      if (moMs !== undefined && r.ro.equals(m.roSlice(0))) bothMs = now - began;
      if (now - lastSample >= 1000) {
        sample();
        lastSample = performance.now();
      }
    }
    sample();
    const ms = status(place.dir);
    const rs = status(place.dir, 0);
    undo();
    m.detach();
    r.detach();
    return {
      row,
      moMs,
      bothMs,
      moRate: moMs === undefined ? 0 : (row.mib * MIB) / PAGE / (moMs / 1000),
      drops: socketDrops(ports) - drops0,
      rcvbuf: rcvbufErrors() - rcvbuf0,
      sessions: { master: ms?.peers[0]?.sessions ?? -1, remote: rs?.peers[0]?.sessions ?? -1 },
      loop,
    };
  } finally {
    await remote?.stop('SIGTERM', 5000);
    await master?.stop('SIGTERM', 5000);
    for (const b of burners) await b.stop('SIGKILL', 2000);
    forget();
  }
}

function rows(): Row[] {
  const sizes = (process.env['PDSM_BENCH_BIGSYNC'] ?? '64M,256M').split(',').map((s) => Number.parseInt(s, 10));
  const out: Row[] = sizes.map((mib) => ({ label: `${mib} MiB, idle`, mib, burners: 0 }));
  out.push({ label: `${sizes[0]} MiB, two CPU-bound processes`, mib: sizes[0]!, burners: 2 });
  return out;
}

export async function benchBigsync(): Promise<BenchResult> {
  const t0 = performance.now();
  const raw = await rawRate(300_000, DATA_BYTES);
  const outcomes: Outcome[] = [];
  for (const row of rows()) outcomes.push(await coldJoin(row));
  const s = (ms: number | undefined): string => (ms === undefined ? `not in ${BOUND_MS / 1000} s` : `${num(ms / 1000, 1)} s`);
  const targets: BenchResult['targets'] = [];
  const big = outcomes.find((o) => o.row.mib === 256 && o.row.burners === 0);
  if (big)
    targets.push({
      target: '256 MiB from a cold join to identical, both directions, <= 15 s',
      measured: s(big.bothMs),
      met: big.bothMs !== undefined && big.bothMs <= 15_000,
    });
  for (const o of outcomes) {
    targets.push({
      target: `${o.row.label}: full resync >= 0.5x the raw datagram rate, zero socket drops`,
      measured: `${ratio(o.moRate, raw.receivedPerSecond)} (${num(o.moRate / 1000, 1)}k/s vs ${num(raw.receivedPerSecond / 1000, 1)}k/s), drops ${o.drops}`,
      met: o.moRate >= 0.5 * raw.receivedPerSecond && o.drops === 0,
    });
    const worst = { p99: Math.max(o.loop.master.p99, o.loop.remote.p99), max: Math.max(o.loop.master.max, o.loop.remote.max) };
    targets.push({
      target: `${o.row.label}: event-loop delay of either daemon p99 <= 20 ms, max <= 100 ms`,
      measured: `p99 ${worst.p99} ms, max ${worst.max} ms`,
      met: worst.p99 <= 20 && worst.max <= 100,
    });
    targets.push({
      target: `${o.row.label}: zero session flaps, byte-identical`,
      measured: `sessions master ${o.sessions.master}, remote ${o.sessions.remote}; ${o.bothMs === undefined ? 'not identical' : 'identical'}`,
      met: o.sessions.master === 1 && o.sessions.remote === 1 && o.bothMs !== undefined,
    });
  }
  return {
    name: 'bigsync',
    tables: [
      {
        title: `Big segments: cold join of one remote on loopback (-i ${INTERVAL_MS}), random MO before the join and random RO after`,
        columns: [
          'run',
          'MO identical',
          'MO and RO identical',
          'MO resync rate',
          'vs raw',
          'socket drops',
          'RcvbufErrors',
          'sessions (master/remote)',
          'loop p99/max master',
          'loop p99/max remote',
        ],
        rows: [
          ['raw: helper process -> one socket here, unpaced', '', '', `${num(raw.receivedPerSecond / 1000, 1)}k/s`, '1.00x', String(raw.drops), '', '', '', ''],
          ...outcomes.map((o) => [
            o.row.label,
            s(o.moMs),
            s(o.bothMs),
            `${num(o.moRate / 1000, 1)}k/s (${num((o.moRate * PAGE) / MIB, 1)} MiB/s)`,
            ratio(o.moRate, raw.receivedPerSecond),
            String(o.drops),
            String(o.rcvbuf),
            `${o.sessions.master}/${o.sessions.remote}`,
            `${o.loop.master.p99}/${o.loop.master.max} ms`,
            `${o.loop.remote.p99}/${o.loop.remote.max} ms`,
          ]),
        ],
        notes: [
          'MO resync rate = pages of the segment / (remote start to MO identical): the join and the apply are included',
          `raw baseline: ${raw.sent} datagrams of ${DATA_BYTES} bytes sent, ${raw.received} received (socket drops ${raw.drops})`,
          ...targets.map(targetLine),
        ],
      },
    ],
    targets,
    data: { raw, outcomes },
    seconds: (performance.now() - t0) / 1000,
  };
}

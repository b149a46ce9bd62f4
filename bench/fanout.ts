/**
 * Benchmark 5 of the issue, fan-out: bytes and datagrams the master sends for one change of
 * one BC page, to 3 and to 30 remotes, by unicast fan-out (no -m) and by multicast.
 *
 * Each case is a real `pdsm_master -p N -s 4K -b 16K -i 100` (multicast: `-m 239.x.y.z
 * --multicast-if 127.0.0.1`) and N real `pdsm_remote -s 4K -i 100` processes (multicast:
 * `--multicast-if 127.0.0.1`) on loopback, run one case after the other. IPv4 multicast works
 * on lo when both ends pin the interface to 127.0.0.1, and what the master sends does not
 * depend on the network behind its socket, so loopback counts the same datagrams as the
 * issue's network namespaces would (the namespace version is test/cluster's BC test).
 *
 * Steps: fill BC with a pattern before the remotes start; start them (10 at a time); wait
 * until every remote's BC equals the master's, then 500 ms; mark the master's
 * PDSM_DEBUG=pdsm:udp trace; change one u64 in one page of BC (writeConsistent); wait until
 * every remote sees it, then 500 ms more (so NACK repairs and retransmissions would be
 * counted); sum the master's `send ... data|commit ... flow=bc ... bytes=N` lines since the
 * mark. Heartbeats in the same window are shown apart. Baseline: unicast to the same N.
 */
import { randomInt } from 'node:crypto';
import { attachMaster, attachRemote, type MasterNode, type RemoteNode } from '../src/index.js';
import { newPlace, onCleanup, sleep, startMaster, startRemote, type Proc } from './lib/cluster.js';
import { num, ratio, type BenchResult, type Table } from './lib/report.js';

const CASES = [
  { remotes: 3, multicast: false },
  { remotes: 3, multicast: true },
  { remotes: 30, multicast: false },
  { remotes: 30, multicast: true },
];
const INTERVAL_MS = 100;
const BC_SIZE = 16 * 1024;
const PAGE = 1024;
const CHANGED_PAGE = 5;
const START_BATCH = 10;
const IP_UDP_HEADERS = 28;
const TRACE_ENV = { PDSM_DEBUG: 'pdsm:udp', DEBUG_COLORS: 'no' };

interface CaseResult {
  remotes: number;
  multicast: boolean;
  group?: string;
  bcDatagrams: number;
  bcBytes: number;
  dataDatagrams: number;
  commitDatagrams: number;
  destinations: number;
  retransmits: number;
  nacksReceived: number;
  otherSent: Record<string, { n: number; bytes: number }>;
  visibleAllMs: number;
  settleMs: number;
  onUnicast: number;
  windowMs: number;
}

function countTrace(text: string): Omit<CaseResult, 'remotes' | 'multicast' | 'group' | 'visibleAllMs' | 'settleMs' | 'onUnicast' | 'windowMs'> {
  const r = {
    bcDatagrams: 0,
    bcBytes: 0,
    dataDatagrams: 0,
    commitDatagrams: 0,
    destinations: 0,
    retransmits: 0,
    nacksReceived: 0,
    otherSent: {} as Record<string, { n: number; bytes: number }>,
  };
  const peers = new Set<string>();
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const send = /pdsm:udp send (\S+) (\w+) (.*)bytes=(\d+)/.exec(line);
    if (send) {
      const [, peer, type, rest, bytes] = send;
      if ((type === 'data' || type === 'commit') && / flow=bc /.test(rest!)) {
        r.bcDatagrams++;
        r.bcBytes += Number(bytes);
        if (type === 'data') r.dataDatagrams++;
        else r.commitDatagrams++;
        peers.add(peer!);
        const key = `${peer} ${type} ${/ seq=(\d+)/.exec(rest!)?.[1]}`;
        if (seen.has(key)) r.retransmits++;
        seen.add(key);
      } else {
        const c = (r.otherSent[type!] ??= { n: 0, bytes: 0 });
        c.n++;
        c.bytes += Number(bytes);
      }
      continue;
    }
    if (/pdsm:udp recv \S+ nack .*flow=bc/.test(line)) r.nacksReceived++;
  }
  r.destinations = peers.size;
  return r;
}

async function runCase(remotes: number, multicast: boolean): Promise<CaseResult> {
  const place = await newPlace(remotes);
  const group = multicast ? `239.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}` : undefined;
  const master = await startMaster(place, {
    intervalMs: INTERVAL_MS,
    remotes,
    size: '4K',
    env: TRACE_ENV,
    extra: ['-b', '16K', ...(group ? ['-m', group, '--multicast-if', '127.0.0.1'] : [])],
  });
  const procs: Proc[] = [];
  const nodes: RemoteNode[] = [];
  const m: MasterNode = attachMaster({ registryDir: place.dir });
  const detach = onCleanup(() => {
    m.detach();
    for (const n of nodes) n.detach();
  });
  try {
    const bc = m.bc;
    if (!bc || bc.length !== BC_SIZE) throw new Error(`master BC is ${bc?.length ?? 'missing'}, expected ${BC_SIZE}`);
    // A pattern in every page: a remote's BC equals the master's only once its join batch arrived.
    m.writeConsistent('bc', () => {
      for (let p = 0; p < BC_SIZE / PAGE; p++) bc.writeBigUInt64LE(BigInt(0xb0 + p), p * PAGE);
    });
    const t0 = performance.now();
    for (let first = 0; first < remotes; first += START_BATCH) {
      const ids = Array.from({ length: Math.min(START_BATCH, remotes - first) }, (_, i) => first + i);
      procs.push(
        ...(await Promise.all(
          ids.map((id) =>
            startRemote(place, id, {
              intervalMs: INTERVAL_MS,
              remotes,
              size: '4K',
              extra: group ? ['--multicast-if', '127.0.0.1'] : [],
            }),
          ),
        )),
      );
    }
    for (let id = 0; id < remotes; id++) nodes.push(attachRemote({ registryDir: place.dir, clientId: id }));
    const equal = (n: RemoteNode): boolean => n.bc !== undefined && n.bc.equals(bc);
    for (let i = 0; i < 1500 && !nodes.every(equal); i++) await sleep(20);
    if (!nodes.every(equal)) throw new Error(`${nodes.filter((n) => !equal(n)).length} of ${remotes} remotes' BC never matched the master's`);
    const settleMs = performance.now() - t0;
    await sleep(500);

    const mark = master.mark();
    const tw = performance.now();
    const value = 0xfeed0000n + BigInt(remotes);
    const at = CHANGED_PAGE * PAGE + 8;
    m.writeConsistent('bc', () => bc.writeBigUInt64LE(value, at));
    const seen = (n: RemoteNode): boolean => n.bc!.readBigUInt64LE(at) === value;
    for (let i = 0; i < 5000 && !nodes.every(seen); i++) await sleep(2);
    const visibleAllMs = performance.now() - tw;
    if (!nodes.every(seen)) throw new Error(`${nodes.filter((n) => !seen(n)).length} of ${remotes} remotes never saw the BC change`);
    await sleep(500);
    const windowMs = performance.now() - tw;
    const counted = countTrace(master.stderrSince(mark));
    const onUnicast = (master.stderr().match(/remote gets no multicast/g) ?? []).length;
    return { remotes, multicast, ...(group ? { group } : {}), ...counted, visibleAllMs, settleMs, onUnicast, windowMs };
  } finally {
    m.detach();
    for (const n of nodes) n.detach();
    detach();
    await Promise.all(procs.map((p) => p.stop()));
    await master.stop();
  }
}

export async function benchFanout(): Promise<BenchResult> {
  const t0 = performance.now();
  const results: CaseResult[] = [];
  for (const c of CASES) results.push(await runCase(c.remotes, c.multicast));
  const unicastOf = (n: number): CaseResult | undefined => results.find((r) => r.remotes === n && !r.multicast);
  const rows = results.map((r) => {
    const base = unicastOf(r.remotes);
    const wire = r.bcBytes + IP_UDP_HEADERS * r.bcDatagrams;
    return [
      r.multicast ? 'multicast' : 'unicast',
      String(r.remotes),
      String(r.bcDatagrams),
      `${r.dataDatagrams}+${r.commitDatagrams}`,
      String(r.bcBytes),
      String(wire),
      num(r.bcBytes / r.remotes, 1),
      base ? ratio(r.bcBytes, base.bcBytes, 3) : '-',
      base ? ratio(r.bcDatagrams, base.bcDatagrams, 3) : '-',
      String(r.destinations),
      String(r.nacksReceived),
      String(r.retransmits),
      num(r.visibleAllMs, 1),
    ];
  });
  const hb = results.map(
    (r) =>
      `${r.multicast ? 'multicast' : 'unicast'} ${r.remotes}: ${
        Object.entries(r.otherSent)
          .map(([t, c]) => `${t} ${c.n} (${c.bytes} B)`)
          .join(', ') || 'none'
      } in ${num(r.windowMs, 0)} ms`,
  );
  const table: Table = {
    title: `Fan-out: what the master sends for one changed BC page (${PAGE} B; -b 16K, -i ${INTERVAL_MS}), real daemons on loopback`,
    columns: [
      'mode',
      'remotes',
      'BC datagrams',
      'data+commit',
      'UDP payload B',
      '+IPv4/UDP hdr',
      'B per remote',
      'bytes vs unicast',
      'dgrams vs unicast',
      'destinations',
      'NACKs in',
      'retransmits',
      'visible at all ms',
    ],
    rows,
    notes: [
      'baseline: unicast fan-out to the same number of remotes, same run (1.00x)',
      "counted from the master's PDSM_DEBUG=pdsm:udp trace: send lines of DATA and COMMIT with flow=bc, from the change until every remote saw it + 500 ms",
      'multicast: -m 239.x.y.z --multicast-if 127.0.0.1 on the master, --multicast-if 127.0.0.1 on each remote (loopback multicast; the master sends the same datagrams as it would into network namespaces)',
      `remotes on unicast fallback (master log "remote gets no multicast"): ${results.map((r) => `${r.multicast ? 'multicast' : 'unicast'} ${r.remotes}: ${r.onUnicast}`).join(', ')}`,
      `other datagrams the master sent in the same window (not counted above): ${hb.join('; ')}`,
      `cluster start until every BC matched (N remotes started ${START_BATCH} at a time): ${results.map((r) => `${r.multicast ? 'multicast' : 'unicast'} ${r.remotes}: ${num(r.settleMs / 1000, 1)} s`).join(', ')}`,
    ],
  };
  return { name: 'fanout', tables: [table], targets: [], data: { cases: results }, seconds: (performance.now() - t0) / 1000 };
}

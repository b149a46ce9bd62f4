/**
 * Benchmark 6 of the issue, wire overhead: bytes on the wire per byte of changed page, for
 * 1 and 64 dirty pages.
 *
 * Two ways, which must agree:
 * - codec: a FlowSender builds the batch into an array (its real DATA fragmenting and
 *   COMMIT), every message is encoded with the real codec, and the bytes are summed;
 * - trace: a real pdsm_master and pdsm_remote on loopback with PDSM_DEBUG=pdsm:udp; the
 *   bench changes one u64 in each of 1 or 64 pages of MO slice 0 and sums the `bytes=` of
 *   the DATA and COMMIT lines the master traced for that batch.
 * The baseline is the changed page bytes themselves (1.00x); IPv4 + UDP headers (28 bytes a
 * datagram) are shown separately because they are on the wire but not in the trace.
 */
import { randomFillSync } from 'node:crypto';
import { attachMaster, attachRemote } from '../src/index.js';
import { FlowSender, type PageSource } from '../src/reliability/sender.js';
import { realClock } from '../src/reliability/clock.js';
import { encodeUnchecked, type CommitMessage, type DataMessage } from '../src/udp/codec.js';
import type { WordSize } from '../src/segments/word-codec.js';
import { newPlace, onCleanup, sleep, startMaster, startRemote } from './lib/cluster.js';
import { num, ratio, type BenchResult, type Table } from './lib/report.js';

const IP_UDP_HEADERS = 28;

interface Geometry {
  pageSize: number;
  mtu: number;
  wordSize: WordSize;
}

interface WireCount {
  datagrams: number;
  payloadBytes: number;
  dataDatagrams: number;
  commitDatagrams: number;
}

/** Encode one batch of `dirty` pages exactly as the daemon's sender would. */
export function codecBatch(g: Geometry, dirty: number): WireCount {
  const pageCount = Math.max(dirty, 64);
  const region = Buffer.alloc(pageCount * g.pageSize);
  randomFillSync(region);
  const source: PageSource = { pageCount, page: (i) => region.subarray(i * g.pageSize, (i + 1) * g.pageSize) };
  const out: (DataMessage | CommitMessage)[] = [];
  const sender = new FlowSender({
    flow: 'mo',
    src: 0xffff,
    dst: 0,
    epoch: 1,
    firstSeq: 1,
    pageSize: g.pageSize,
    wordSize: g.wordSize,
    mtu: g.mtu,
    sealed: false,
    source,
    clock: realClock,
    emit: (m) => out.push(m),
  });
  sender.sendBatch(Array.from({ length: dirty }, (_, i) => i));
  let payloadBytes = 0;
  out.forEach((m, i) => {
    payloadBytes += encodeUnchecked({ ...m, packetNumber: i }).byteLength;
  });
  return {
    datagrams: out.length,
    payloadBytes,
    dataDatagrams: out.filter((m) => m.type === 'data').length,
    commitDatagrams: out.filter((m) => m.type === 'commit').length,
  };
}

/** Sum DATA and COMMIT `bytes=` of master trace lines (pdsm:udp send ...). */
function traced(text: string): WireCount & { heartbeats: number; heartbeatBytes: number } {
  const c = { datagrams: 0, payloadBytes: 0, dataDatagrams: 0, commitDatagrams: 0, heartbeats: 0, heartbeatBytes: 0 };
  for (const line of text.split('\n')) {
    const m = /pdsm:udp send \S+ (data|commit|heartbeat) .*bytes=(\d+)/.exec(line);
    if (!m) continue;
    const bytes = Number(m[2]);
    if (m[1] === 'heartbeat') {
      c.heartbeats++;
      c.heartbeatBytes += bytes;
      continue;
    }
    c.datagrams++;
    c.payloadBytes += bytes;
    if (m[1] === 'data') c.dataDatagrams++;
    else c.commitDatagrams++;
  }
  return c;
}

async function traceBatches(dirtyCounts: number[]): Promise<Map<number, WireCount & { heartbeats: number; heartbeatBytes: number }>> {
  const place = await newPlace(1);
  const opts = { intervalMs: 20, remotes: 1, size: '64K', env: { PDSM_DEBUG: 'pdsm:udp', DEBUG_COLORS: 'no' } };
  const master = await startMaster(place, opts);
  const remote = await startRemote(place, 0, { ...opts, env: {} });
  const m = attachMaster({ registryDir: place.dir });
  const r = attachRemote({ registryDir: place.dir, clientId: 0 });
  const detach = onCleanup(() => {
    m.detach();
    r.detach();
  });
  const results = new Map<number, WireCount & { heartbeats: number; heartbeatBytes: number }>();
  try {
    const slice = m.moSlice(0);
    const pageSize = 1024;
    let value = 1000n;
    // The full batch of the join must be through before the first mark.
    for (let i = 0; i < 250 && r.status('mo').batches < 1n; i++) await sleep(20);
    await sleep(100);
    for (const dirty of dirtyCounts) {
      value++;
      const mark = master.mark();
      const v = value;
      m.writeConsistent(0, () => {
        for (let p = 0; p < dirty; p++) slice.writeBigUInt64LE(v, p * pageSize + 8);
      });
      const lastPage = (dirty - 1) * pageSize + 8;
      for (let i = 0; i < 500; i++) {
        if (r.readConsistent('mo', () => r.mo.readBigUInt64LE(lastPage)) === v) break;
        await sleep(2);
      }
      await sleep(100); // any retransmission would show up in the trace too
      results.set(dirty, traced(master.stderrSince(mark)));
    }
  } finally {
    m.detach();
    r.detach();
    detach();
    await remote.stop();
    await master.stop();
  }
  return results;
}

export async function benchWire(): Promise<BenchResult> {
  const t0 = performance.now();
  const geometries: (Geometry & { label: string })[] = [
    { label: 'page 1024, MTU 1200, W 8 (default)', pageSize: 1024, mtu: 1200, wordSize: 8 },
    { label: 'page 4096, MTU 1200, W 8', pageSize: 4096, mtu: 1200, wordSize: 8 },
    { label: 'page 4096, MTU 9000, W 8', pageSize: 4096, mtu: 9000, wordSize: 8 },
    { label: 'page 512, MTU 1200, W 8', pageSize: 512, mtu: 1200, wordSize: 8 },
  ];
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = { codec: [] as unknown[] };
  for (const g of geometries) {
    for (const dirty of [1, 64]) {
      const c = codecBatch(g, dirty);
      const changed = dirty * g.pageSize;
      const wire = c.payloadBytes + IP_UDP_HEADERS * c.datagrams;
      rows.push([
        `codec: ${g.label}`,
        String(dirty),
        String(c.datagrams),
        String(c.payloadBytes),
        ratio(c.payloadBytes, changed, 3),
        ratio(wire, changed, 3),
        ratio(c.payloadBytes, 8 * dirty, 1),
      ]);
      (data['codec'] as unknown[]).push({ ...g, dirty, ...c, changedBytes: changed });
    }
  }
  const traces = await traceBatches([1, 64]);
  for (const [dirty, c] of traces) {
    const changed = dirty * 1024;
    const wire = c.payloadBytes + IP_UDP_HEADERS * c.datagrams;
    rows.push([
      'trace: real daemons, default geometry',
      String(dirty),
      String(c.datagrams),
      String(c.payloadBytes),
      ratio(c.payloadBytes, changed, 3),
      ratio(wire, changed, 3),
      ratio(c.payloadBytes, 8 * dirty, 1),
    ]);
  }
  data['trace'] = Object.fromEntries(traces);
  const agree = [1, 64].every((d) => traces.get(d)?.payloadBytes === codecBatch(geometries[0]!, d).payloadBytes);
  const hb = [...traces.values()].find((c) => c.heartbeats > 0);
  const table: Table = {
    title: 'Wire overhead: bytes per byte of changed page (baseline: the changed page bytes = 1.00x)',
    columns: ['how', 'dirty pages', 'datagrams', 'UDP payload B', 'payload/changed', '+IPv4/UDP hdr', 'per changed u64'],
    rows,
    notes: [
      'per changed u64: payload bytes when one 8-byte counter changed in each dirty page (page granularity)',
      `codec and trace ${agree ? 'agree byte for byte' : 'DISAGREE'} for the default geometry`,
      hb
        ? `heartbeat (not counted above): ${num(hb.heartbeatBytes / hb.heartbeats, 0)} bytes each, every min(1 s, -i) (>= 50 ms) per remote`
        : 'no heartbeat traced in the window',
    ],
  };
  return { name: 'wire', tables: [table], targets: [], data, seconds: (performance.now() - t0) / 1000 };
}

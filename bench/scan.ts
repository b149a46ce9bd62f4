/**
 * Benchmark 1, scan: the change-detection pass the daemon runs every interval
 * (PageScanner.scan over a live SysV segment: XXH3-64 per page, compare with the last
 * hashes, copy what changed), beside what a simpler design would do with the same bytes in the same process:
 * memcmp of the segment against a shadow copy (one Buffer.compare, and page by page), and
 * a plain memory copy (Buffer.copy). The two hashes are measured alone too: XXH3-64 (the
 * scanner's, local only) and XXH64 (the wire's, spec §5.4), both xxHash's own code.
 * A 1 GiB segment is scanned too, for the "1 GiB every second" cost: the share of one core
 * a scan per second takes is 1 GiB / (scan GB/s) seconds per second.
 *
 * Nothing changes between passes: that is the steady state of a segment of counters, and
 * the worst case for the memcmp baseline (an early difference would end it sooner).
 * Ops are interleaved round by round so a noisy neighbour hurts them all alike; each cell
 * is the median of the rounds.
 */
import { randomFillSync, randomInt } from 'node:crypto';
import { PageScanner } from '../src/segments/scanner.js';
import { native } from '../src/segments/native.js';
import { Segment } from '../src/segments/segment.js';
import { onCleanup } from './lib/cluster.js';
import { median, num, ratio, targetLine, type BenchResult, type Table } from './lib/report.js';

/** Sizes, with issue 17's scan/memcmp target where it sets one. */
const SIZES: { label: string; bytes: number; target?: number }[] = [
  { label: '64 KiB', bytes: 64 * 1024 },
  { label: '1 MiB', bytes: 1024 * 1024, target: 0.5 },
  { label: '64 MiB', bytes: 64 * 1024 * 1024, target: 0.8 },
  { label: '256 MiB', bytes: 256 * 1024 * 1024, target: 0.8 },
  { label: '1 GiB', bytes: 1024 * 1024 * 1024 },
];
/** A 1 GiB segment scanned every second may take at most this share of a core. */
const GIB_SHARE_TARGET = 0.15;
const PAGE_SIZE = 1024;
const ROUND_MS = 40;
const ROUNDS = 12;

interface Op {
  name: string;
  run: () => void;
}

/** Run `op` for at least ROUND_MS (at least once); GB/s over `bytes` per run. */
function measure(op: Op, bytes: number): number {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed: number;
  const limit = 1_000_000;
  do {
    op.run();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  } while (elapsed < ROUND_MS && n < limit);
  return (bytes * n) / (elapsed / 1000) / 1e9;
}

export async function benchScan(): Promise<BenchResult> {
  const t0 = performance.now();
  const rows: (string | number)[][] = [];
  const data: Record<string, unknown> = { pageSize: PAGE_SIZE, rounds: ROUNDS, roundMs: ROUND_MS, sizes: [] as unknown[] };
  const targets: BenchResult['targets'] = [];
  let sink = 0;
  for (const size of SIZES) {
    const key = 0x20000000 + (randomInt(0, 0x3fff) << 16) + 0x8000;
    const seg = Segment.open(key, size.bytes, { create: true, label: 'bench' });
    const undo = onCleanup(() => {
      seg.detach();
      Segment.remove(key);
    });
    try {
      const live = seg.buffer;
      randomFillSync(live);
      const shadow = Buffer.from(live);
      const scanner = new PageScanner(live, PAGE_SIZE);
      // The daemon's path: snapshot under the ST generation of the flow (docs/design.md §3b).
      const st = new BigUint64Array(8);
      const generation = (): bigint => st[0]!;
      scanner.scan(generation); // the first scan reports every page; steady state after it
      const hashes = new BigUint64Array(size.bytes / PAGE_SIZE);
      const ops: Op[] = [
        {
          name: 'scan',
          run: () => {
            const r = scanner.scan(generation);
            if (r !== 'busy') sink += r.dirty.length;
          },
        },
        {
          name: 'memcmp',
          run: () => {
            sink += Buffer.compare(live, shadow);
          },
        },
        {
          name: 'memcmp-pages',
          run: () => {
            for (let off = 0; off < size.bytes; off += PAGE_SIZE) {
              sink += live.compare(shadow, off, off + PAGE_SIZE, off, off + PAGE_SIZE);
            }
          },
        },
        {
          name: 'copy',
          run: () => {
            sink += live.copy(shadow);
          },
        },
        {
          name: 'xxh3',
          run: () => {
            sink += native.hashPagesXxh3(live, PAGE_SIZE, 0n, hashes);
          },
        },
        {
          name: 'xxh64',
          run: () => {
            sink += native.hashPages(live, PAGE_SIZE, 0n, hashes);
          },
        },
      ];
      const samples = new Map<string, number[]>(ops.map((o) => [o.name, []]));
      for (const op of ops) measure(op, size.bytes); // warm-up round, discarded
      for (let r = 0; r < ROUNDS; r++) for (const op of ops) samples.get(op.name)!.push(measure(op, size.bytes));
      const med = Object.fromEntries([...samples].map(([k, v]) => [k, median(v)])) as Record<string, number>;
      const scan = med['scan']!;
      const memcmp = med['memcmp']!;
      rows.push([
        size.label,
        num(scan),
        num(memcmp),
        num(med['memcmp-pages']),
        num(med['copy']),
        num(med['xxh3']),
        num(med['xxh64']),
        ratio(scan, memcmp),
        ratio(scan, med['memcmp-pages']!),
        ratio(med['xxh3']!, med['xxh64']!),
      ]);
      (data['sizes'] as unknown[]).push({ size: size.bytes, medianGBps: med, samplesGBps: Object.fromEntries(samples) });
      if (size.target !== undefined) {
        targets.push({
          target: `scan >= ${size.target}x memcmp at ${size.label}`,
          measured: `${ratio(scan, memcmp)} (${num(scan)} vs ${num(memcmp)} GB/s)`,
          met: scan >= size.target * memcmp,
        });
      }
      if (size.bytes === 1024 ** 3) {
        const share = size.bytes / 1e9 / scan; // seconds of one core per scan, one scan a second
        targets.push({
          target: `a 1 GiB segment scanned every second costs <= ${GIB_SHARE_TARGET * 100}% of a core`,
          measured: `${(share * 100).toFixed(1)}% (${num(scan)} GB/s)`,
          met: share <= GIB_SHARE_TARGET,
        });
      }
    } finally {
      seg.detach();
      Segment.remove(key);
      undo();
    }
  }
  data['sink'] = sink;
  const table: Table = {
    title: 'Scan: change detection over a live SysV segment, GB/s (1 GB = 1e9 bytes), page 1024, median of rounds',
    columns: ['segment', 'scan', 'memcmp', 'memcmp/page', 'copy', 'xxh3', 'xxh64', 'scan/memcmp', 'scan/memcmp-page', 'xxh3/xxh64'],
    rows,
    notes: [
      'scan = PageScanner.scan with an ST generation (XXH3-64 per page + compare; nothing changed, so nothing copied), the daemon path',
      'memcmp = Buffer.compare(segment, shadow) (one memcmp); memcmp/page = one compare per 1024-byte page',
      'copy = Buffer.copy(segment -> shadow); xxh3 / xxh64 = native.hashPagesXxh3 / native.hashPages over the live segment alone',
      ...targets.map(targetLine),
    ],
  };
  return { name: 'scan', tables: [table], targets, data, seconds: (performance.now() - t0) / 1000 };
}

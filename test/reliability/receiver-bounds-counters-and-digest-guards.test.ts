// The receiver's bounds and what it reports: the window of datagrams held ahead of the apply
// point and the clipping of a heartbeat's Highest Seq to it (spec §7.3, §6.2), the DIGEST
// guards (§6.3, §7.8), its counters, the join progress of the first (FULL) batch, and the
// helpers windowFor and runs.
import t from 'tap';
import { FlowReceiver, runs, windowFor, type ReceiverOptions } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const data = (seq: number, page = 0, batchId = 1, len = 1024): DataMessage => ({
  ...env,
  type: 'data',
  flow: 'mo',
  seq,
  batchId,
  page,
  offset: 0,
  payload: Buffer.alloc(len, 7),
});
const commit = (seq: number, dataCount: number, pageCount: number, batchId = 1, replaces = false): CommitMessage => ({
  ...env,
  type: 'commit',
  flow: 'mo',
  seq,
  batchId,
  dataCount,
  pageCount,
  replaces,
  full: false,
});

function receiver(extra: Partial<ReceiverOptions> = {}) {
  const clock = new FakeClock();
  const applied: { batchId: number; pages: number[] }[] = [];
  const resyncs: [number, number, boolean][] = [];
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq: 10,
    clock,
    geometry: { pageSize: 1024, wordSize: 8, pageCount: 8 },
    apply: (b) => applied.push({ batchId: b.batchId, pages: b.data.map((d) => d.page) }),
    sendNack: () => undefined,
    requestResync: (first, count, full) => resyncs.push([first, count, full]),
    ...extra,
  });
  return { r, clock, applied, resyncs };
}

t.test('a datagram window or more ahead of the apply point is dropped and counted; one less is held', async (t) => {
  const { r } = receiver({ window: 16 });
  t.equal(r.window, 16);
  t.equal(r.onDatagram(data(10 + 16)), 'window');
  t.equal(r.counters.outOfWindow, 1);
  t.equal(r.highestSeen, 9, 'a dropped datagram reveals nothing');
  t.equal(r.onDatagram(data(10 + 15)), 'ok');
  t.equal(r.counters.datagrams, 1);
  t.equal(r.highestSeen, 25);
});

t.test('the default window holds a full batch twice, at least 65 536 (windowFor at MTU 1200)', async (t) => {
  t.equal(receiver().r.window, 65_536);
  t.equal(windowFor({ pageSize: 1024, wordSize: 8, pageCount: 8 }, 1200), 65_536, 'a small segment gets the floor');
  // 4096-byte pages in chunks of 1200 - 64 = 1136 bytes: 4 DATA per page, plus the COMMIT.
  t.equal(windowFor({ pageSize: 4096, wordSize: 8, pageCount: 100_000 }, 1200), 2 * (4 * 100_000 + 1));
  t.equal(windowFor({ pageSize: 1024, wordSize: 8, pageCount: 40_000 }, 1200), 2 * (40_000 + 1), 'a page that fits one DATA');
  t.equal(windowFor({ pageSize: 1024, wordSize: 8, pageCount: 1000 }, 70), 2 * (1000 * 128 + 1), 'an MTU with room for one word per DATA');
  t.equal(windowFor({ pageSize: 65_536, wordSize: 8, pageCount: 1 << 24 }, 1200), 0x4000_0000, 'never beyond the serial window');
});

t.test("a heartbeat's Highest Seq beyond the window is clipped to it; one at the window's edge is not", async (t) => {
  const { r } = receiver({ window: 16 });
  r.onHighestSeq(10 + 15);
  t.equal(r.highestSeen, 25);
  t.equal(r.counters.highestClipped, 0);
  r.onHighestSeq(10 + 16);
  t.equal(r.highestSeen, 25, 'clipped to the last number the window holds');
  t.equal(r.counters.highestClipped, 1);
  t.equal(r.missing, 16);
  r.onHighestSeq(10 + 0x3fff_ffff);
  t.equal(r.counters.highestClipped, 2, 'the farthest number still in the serial window is clipped');
  r.onHighestSeq(10 + 0x4000_0000);
  t.equal(r.counters.highestClipped, 2, 'beyond the serial window: ignored, not clipped');
  t.equal(r.highestSeen, 25);
  r.onHighestSeq(5);
  t.equal(r.highestSeen, 25, 'a number behind the apply point changes nothing');
});

t.test('invalid DATA (a page beyond the segment) is refused and counted, never held', async (t) => {
  const { r } = receiver();
  t.equal(r.onDatagram(data(10, 8)), 'invalid');
  t.equal(r.counters.invalid, 1);
  t.equal(r.counters.datagrams, 0);
  t.ok(r.idle);
  t.equal(r.onDatagram(data(10, 7)), 'ok', 'the last page is in the segment');
});

t.test('duplicates: a number held already, or before the apply point, is dropped and counted', async (t) => {
  const { r, applied } = receiver();
  t.equal(r.onDatagram(data(11)), 'ok');
  t.equal(r.onDatagram(data(11)), 'duplicate');
  r.onDatagram(data(10, 1));
  r.onDatagram(commit(12, 2, 2));
  t.same(applied, [{ batchId: 1, pages: [1, 0] }]);
  t.equal(r.onDatagram(commit(12, 2, 2)), 'duplicate');
  t.equal(r.onDatagram(data(9)), 'duplicate', 'before the first sequence of the session');
  t.equal(r.counters.duplicates, 3);
  t.equal(r.counters.datagrams, 3);
});

t.test('counters and getters of a batch applied: bytes, batches, pending, idle, last applied', async (t) => {
  const { r } = receiver();
  t.ok(r.idle, 'a new receiver is idle');
  t.equal(r.pending, 0);
  t.equal(r.lastAppliedBatch, 0);
  r.onDatagram(data(12, 2, 7));
  t.notOk(r.idle);
  t.equal(r.pending, 3, 'one held, two missing');
  t.equal(r.missing, 2);
  r.onDatagram(data(10, 0, 7));
  t.equal(r.pending, 3, 'two held (one of them in the batch under way), one missing');
  t.equal(r.missing, 1);
  r.onDatagram(data(11, 1, 7));
  t.equal(r.missing, 0);
  t.notOk(r.idle, 'no COMMIT yet: the batch is pending');
  r.onDatagram(commit(13, 3, 3, 7));
  t.ok(r.idle);
  t.equal(r.counters.batchesApplied, 1);
  t.equal(r.counters.bytes, 3 * 1024);
  t.equal(r.lastAppliedBatch, 7);
  t.equal(r.expected, 14);
});

t.test('a lost tail alone (nothing held, Highest Seq ahead) is pending, not idle', async (t) => {
  const { r } = receiver();
  r.onHighestSeq(12);
  t.notOk(r.idle, 'three numbers missing');
  t.equal(r.pending, 3);
  t.same(
    r.onDigest(0, 0, new BigUint64Array(1), () => 1n),
    [],
    'so a DIGEST is not compared yet',
  );
});

t.test('join progress: page bytes of the first batch held, of the segment total; gone once it is applied', async (t) => {
  const { r } = receiver();
  t.same(r.joinProgress, { bytesDone: 0, bytesTotal: 8 * 1024 });
  r.onDatagram(data(12, 2));
  r.onDatagram(data(11, 1));
  t.same(r.joinProgress, { bytesDone: 2048, bytesTotal: 8 * 1024 });
  t.equal(r.heldBytes, 2048);
  r.onDatagram(data(10, 0));
  t.equal(r.heldBytes, 3072, 'DATA passed to the batch under way stay staged');
  r.onDatagram(commit(13, 3, 3));
  t.equal(r.joinProgress, undefined);
  t.equal(r.heldBytes, 0);
});

t.test('a refused first batch also ends the join progress (its RESYNC starts another)', async (t) => {
  const { r, resyncs } = receiver();
  r.onDatagram(data(10, 0, 1, 512)); // half a page
  r.onDatagram(commit(11, 1, 1));
  t.same(resyncs, [[0, 1, false]]);
  t.equal(r.counters.resyncsSent, 1);
  t.equal(r.counters.batchesDropped, 1, 'a refused batch counts as dropped');
  t.equal(r.counters.batchesApplied, 0);
  t.equal(r.joinProgress, undefined);
  t.equal(r.heldBytes, 0);
});

t.test('a REPLACES batch whole beyond a gap drops the held datagrams before it and their bytes', async (t) => {
  const { r, applied, clock } = receiver();
  // Batch 1: DATA 10..12, COMMIT 13; 10 is lost. Batch 2 REPLACES: DATA 14, COMMIT 15.
  r.onDatagram(data(11, 1));
  r.onDatagram(data(12, 2));
  r.onDatagram(commit(13, 3, 3));
  t.equal(r.heldBytes, 2048);
  r.onDatagram(commit(15, 1, 1, 2, true));
  t.same(applied, [], 'not whole yet: DATA 14 missing');
  r.onDatagram(data(14, 5, 2));
  t.same(applied, [{ batchId: 2, pages: [5] }]);
  t.equal(r.expected, 16);
  t.equal(r.heldBytes, 0, 'the staging of batch 1 is released');
  t.equal(r.counters.batchesDropped, 1);
  t.ok(r.idle, 'nothing missing: 10 is obsolete');
  t.equal(clock.pending, 0, 'and not NACKed');
  t.equal(r.onDatagram(data(10, 0)), 'duplicate', 'a late copy of an obsolete number');
});

t.test('until a REPLACES batch is whole, an earlier batch that completes is still applied first', async (t) => {
  const { r, applied } = receiver();
  // Batch 1: DATA 10..12, COMMIT 13, with 10 late. Batch 2 REPLACES: DATA 14, COMMIT 15.
  r.onDatagram(data(11, 1));
  r.onDatagram(data(12, 2));
  r.onDatagram(commit(13, 3, 3));
  r.onDatagram(commit(15, 1, 1, 2, true));
  r.onDatagram(data(10, 0));
  t.same(applied, [{ batchId: 1, pages: [0, 1, 2] }], 'batch 1 is whole before batch 2: it is not obsolete yet');
  t.equal(r.counters.batchesDropped, 0);
  r.onDatagram(data(14, 5, 2));
  t.same(applied.at(-1), { batchId: 2, pages: [5] });
  t.equal(r.counters.batchesDropped, 0);
});

t.test('only the latest REPLACES batch counts; an older one arriving later is not tried', async (t) => {
  const { r, applied } = receiver();
  // 10 lost (batch 1); REPLACES batch 2: DATA 11, COMMIT 12; REPLACES batch 3: DATA 13, COMMIT 14.
  r.onDatagram(commit(14, 1, 1, 3, true));
  r.onDatagram(commit(12, 1, 1, 2, true));
  r.onDatagram(data(13, 3, 3));
  t.same(applied, [{ batchId: 3, pages: [3] }], 'batch 3 applies; batch 2 is obsolete with what came before');
  t.equal(r.expected, 15);
  t.equal(r.heldBytes, 0);
  t.ok(r.idle);
});

t.test('a REPLACES batch that overlaps what was applied is not applied out of order', async (t) => {
  const { r, applied } = receiver();
  r.onDatagram(data(10, 0));
  r.onDatagram(commit(11, 1, 1));
  // A REPLACES COMMIT whose DATA count reaches before the apply point (12): it cannot be whole.
  r.onDatagram(commit(13, 3, 3, 2, true));
  t.same(applied, [{ batchId: 1, pages: [0] }]);
  t.equal(r.expected, 12);
  // Its last DATA arrives: every number it names is here, but 10..11 were batch 1's.
  const { r: r2, applied: applied2, resyncs } = receiver();
  r2.onDatagram(data(10, 0));
  r2.onDatagram(commit(11, 1, 1));
  r2.onDatagram(data(12, 1, 2));
  r2.onDatagram(commit(13, 3, 3, 2, true));
  t.same(applied2, [{ batchId: 1, pages: [0] }], 'batch 2 is not applied');
  t.equal(r2.counters.batchesDropped, 1, 'it is dropped as begun before the apply point');
  t.equal(r2.counters.invalid, 0, 'not taken for a malformed batch');
  t.same(resyncs, [], 'so nothing is asked for again');
  t.equal(r2.expected, 14);
  t.equal(r2.heldBytes, 0, 'its staged DATA released');
});

t.test('a REPLACES batch at the apply point, its COMMIT first, applies and drops nothing', async (t) => {
  const { r, applied } = receiver();
  r.onDatagram({ ...commit(12, 2, 2, 1, true), full: true });
  r.onDatagram(data(11, 1));
  t.same(applied, []);
  r.onDatagram(data(10, 0));
  t.same(applied, [{ batchId: 1, pages: [0, 1] }]);
  t.equal(r.counters.batchesDropped, 0);
  t.equal(r.counters.batchesApplied, 1);
  t.equal(r.expected, 13);
  t.ok(r.idle);
});

t.test('DIGEST: refused whole when its pages pass the segment or are not whole numbers (§6.3)', async (t) => {
  const { r, resyncs } = receiver();
  const h = (n: number): BigUint64Array => new BigUint64Array(n);
  const local = (): bigint => 1n;
  t.same(r.onDigest(0, 6, h(3), local), []);
  t.same(r.onDigest(0, -1, h(1), local), []);
  t.same(r.onDigest(0, 1.5, h(1), local), []);
  t.same(r.onDigest(0, 0, h(0), local), [], 'no hashes at all');
  t.equal(r.counters.digestsRefused, 4);
  t.same(r.onDigest(0, 5, h(3), local), [5, 6, 7], 'up to the last page: compared');
  t.equal(r.counters.digestsRefused, 4);
  t.same(resyncs, [[5, 3, false]]);
});

t.test('DIGEST: compared only for the last applied batch and while nothing is pending (§7.8)', async (t) => {
  const { r, resyncs } = receiver();
  const zero = new BigUint64Array(1);
  const local = (): bigint => 9n;
  r.onDatagram(data(10, 0, 4));
  r.onDatagram(commit(11, 1, 1, 4));
  t.same(r.onDigest(3, 0, zero, local), [], 'another batch id');
  r.onDatagram(data(13, 1, 5));
  t.same(r.onDigest(4, 0, zero, local), [], 'a datagram is missing');
  t.equal(r.counters.digestsRefused, 0, 'not refused: just not comparable now');
  t.same(resyncs, []);
  r.onDatagram(data(12, 0, 5));
  r.onDatagram(commit(14, 2, 2, 5));
  t.same(r.onDigest(5, 0, zero, local), [0]);
  t.same(r.onDigest(5, 0, BigUint64Array.from([9n]), local), [], 'equal hashes: nothing to resync');
  t.same(resyncs, [[0, 1, false]]);
});

t.test('runs: consecutive pages as [first, count], sorted, duplicates once', async (t) => {
  t.same(runs([]), []);
  t.same(runs([4]), [[4, 1]]);
  t.same(runs([5, 3, 4, 9, 9, 1]), [
    [1, 1],
    [3, 3],
    [9, 1],
  ]);
  t.same(runs([7, 6, 6, 8]), [[6, 3]]);
  t.same(
    runs([10, 2]),
    [
      [2, 1],
      [10, 1],
    ],
    'sorted by number, not as text',
  );
});

import t from 'tap';
import { FlowReceiver } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const data = (seq: number, page: number, offset: number, len: number, batchId = 1): DataMessage => ({
  ...env,
  type: 'data',
  flow: 'mo',
  seq,
  batchId,
  page,
  offset,
  payload: Buffer.alloc(len, 7),
});
const commit = (seq: number, dataCount: number, pageCount: number, batchId = 1): CommitMessage => ({
  ...env,
  type: 'commit',
  flow: 'mo',
  seq,
  batchId,
  dataCount,
  pageCount,
  replaces: false,
  full: false,
});

function receiver() {
  const applied: number[] = [];
  const resyncs: [number, number, boolean][] = [];
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq: 10,
    clock: new FakeClock(),
    geometry: { pageSize: 1024, wordSize: 8, pageCount: 8 },
    apply: (b) => applied.push(b.batchId),
    sendNack: () => undefined,
    requestResync: (first, count, full) => resyncs.push([first, count, full]),
  });
  return { r, applied, resyncs };
}

t.test('a batch whose ranges do not cover its pages is not applied; its pages are asked for again', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 3, 0, 512)); // half of page 3
  r.onDatagram(data(11, 4, 0, 1024));
  r.onDatagram(commit(12, 2, 2));
  t.same(applied, [], 'nothing applied');
  t.same(resyncs, [[3, 2, false]], 'RESYNC for pages 3..4');
  t.equal(r.expected, 13, 'the apply point moved past it');
  t.equal(r.counters.invalid, 1);
});

t.test('a batch whose DATA carry another batch id than its COMMIT is not applied; its pages are asked for again', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 1, 0, 1024, 5));
  r.onDatagram(data(11, 2, 0, 1024, 6));
  r.onDatagram(commit(12, 2, 2, 6));
  t.same(applied, []);
  t.same(resyncs, [[1, 2, false]], 'spec §7.3: a RESYNC of its pages, not RESYNC FULL');
  t.equal(r.expected, 13, 'the apply point moved past it');
});

t.test('a well-formed batch is applied and moves the apply point', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 1, 0, 1024));
  r.onDatagram(data(11, 2, 0, 1024));
  r.onDatagram(commit(12, 2, 2));
  t.same(applied, [1]);
  t.same(resyncs, []);
  t.equal(r.expected, 13);
  t.equal(r.lastAppliedBatch, 1);
});

t.test('a digest for the last applied batch finds differing pages and asks for each run', async (t) => {
  const { r, resyncs } = receiver();
  r.onDatagram(data(10, 0, 0, 1024));
  r.onDatagram(commit(11, 1, 1));
  const local = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n];
  const theirs = BigUint64Array.from([1n, 9n, 9n, 4n, 5n, 9n, 7n, 8n]);
  t.same(
    r.onDigest(2, 0, theirs, (p) => local[p]!),
    [],
    'a digest for another batch is ignored',
  );
  t.same(
    r.onDigest(1, 0, theirs, (p) => local[p]!),
    [1, 2, 5],
  );
  t.same(resyncs, [
    [1, 2, false],
    [5, 1, false],
  ]);
});

t.test('a batch that covers one page twice, apart, is not applied (spec §5.3: each page exactly once)', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 5, 0, 1024));
  r.onDatagram(data(11, 6, 0, 1024));
  r.onDatagram(data(12, 5, 0, 1024)); // page 5 again: two distinct pages, three covers
  r.onDatagram(commit(13, 3, 2));
  t.same(applied, [], 'nothing applied, although its distinct pages (2) match Page Count');
  t.same(resyncs, [[5, 2, false]], 'RESYNC for pages 5..6');
  t.equal(r.counters.invalid, 1);
  t.equal(r.heldBytes, 0, 'nothing stays staged');
});

t.test('a batch whose distinct pages differ from Page Count is not applied', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 1, 0, 1024));
  r.onDatagram(data(11, 2, 0, 1024));
  r.onDatagram(commit(12, 2, 3));
  t.same(applied, []);
  t.same(resyncs, [[1, 2, false]]);
});

t.test('the same batch applies whole whatever order its datagrams arrive in, and duplicates of passed DATA are counted', async (t) => {
  const { r, applied } = receiver();
  const got: number[][] = [];
  const r2 = new FlowReceiver({ ...r.options, apply: (b) => got.push(b.data.map((d) => d.page)) });
  r2.onDatagram(commit(14, 4, 4));
  r2.onDatagram(data(12, 3, 0, 1024));
  r2.onDatagram(data(10, 1, 0, 1024));
  t.equal(r2.pending, 5, 'three held (10, 12, COMMIT 14), two missing (11, 13)');
  r2.onDatagram(data(10, 1, 0, 1024));
  t.equal(r2.counters.duplicates, 1, 'DATA 10, already passed to the batch under way, is a duplicate');
  r2.onDatagram(data(11, 2, 0, 1024));
  t.same(got, [], 'not whole yet');
  t.equal(r2.heldBytes, 3 * 1024, 'three pages staged');
  r2.onDatagram(data(13, 4, 0, 1024));
  t.same(got, [[1, 2, 3, 4]], 'applied once whole, DATA in sequence order');
  t.ok(r2.idle, 'nothing pending');
  t.equal(r2.heldBytes, 0);
  t.equal(r2.counters.bytes, 4 * 1024);
  t.same(applied, [], 'the first receiver saw nothing');
});

t.test('a REPLACES batch that starts inside the batch under way applies, and what came before it is dropped', async (t) => {
  const { r } = receiver();
  const got: { batchId: number; pages: number[] }[] = [];
  const r2 = new FlowReceiver({ ...r.options, apply: (b) => got.push({ batchId: b.batchId, pages: b.data.map((d) => d.page) }) });
  // Batch 1: DATA 10..12 and COMMIT 13 (lost). Batch 2 REPLACES: DATA 14..15, COMMIT 16.
  r2.onDatagram(data(10, 0, 0, 1024, 1));
  r2.onDatagram(data(11, 1, 0, 1024, 1));
  // 12 and 13 lost; batch 2 arrives whole.
  r2.onDatagram(data(14, 5, 0, 1024, 2));
  r2.onDatagram(data(15, 6, 0, 1024, 2));
  r2.onDatagram({ ...commit(16, 2, 2, 2), replaces: true });
  t.same(got, [{ batchId: 2, pages: [5, 6] }], 'the REPLACES batch applied; batch 1 never');
  t.equal(r2.expected, 17);
  t.equal(r2.heldBytes, 0, 'batch 1 staging released');
  t.equal(r2.counters.batchesDropped, 1);
  // A REPLACES batch whose first DATA had already been passed into the batch under way.
  r2.onDatagram(data(17, 1, 0, 1024, 3));
  r2.onDatagram(data(18, 2, 0, 1024, 4));
  r2.onDatagram(data(19, 3, 0, 1024, 4));
  r2.onDatagram({ ...commit(20, 2, 2, 4), replaces: true });
  t.same(got.at(-1), { batchId: 4, pages: [2, 3] }, 'batch 4 (DATA 18..19, already assembled behind DATA 17) applied');
  t.equal(r2.expected, 21);
  t.equal(r2.heldBytes, 0);
  t.equal(r2.counters.batchesDropped, 2, 'batch 3 (DATA 17) dropped');
});

t.test('the batch rules hold for every batch, not only the first: ids, coverage and pages start over at each COMMIT', async (t) => {
  const { r } = receiver();
  const got: number[] = [];
  const resyncs: [number, number, boolean][] = [];
  const r2 = new FlowReceiver({ ...r.options, apply: (b) => got.push(b.batchId), requestResync: (f, c, full) => resyncs.push([f, c, full]) });
  // Batch 7: whole, applied. Its last page (2) was complete.
  r2.onDatagram(data(10, 1, 0, 1024, 7));
  r2.onDatagram(data(11, 2, 0, 1024, 7));
  r2.onDatagram(commit(12, 2, 2, 7));
  t.same(got, [7], 'batch 7 applied');
  // Batch 8: its DATA all carry id 9, its COMMIT 8: refused although the DATA agree among themselves.
  r2.onDatagram(data(13, 1, 0, 1024, 9));
  r2.onDatagram(data(14, 2, 0, 1024, 9));
  r2.onDatagram(commit(15, 2, 2, 8));
  t.same(got, [7], 'batch 8 refused: its DATA are all of batch 9');
  t.same(resyncs, [[1, 2, false]]);
  // Batch 10: pages 5, 6 and 5 again with Page Count 3: refused (page 5 covered twice, two distinct pages).
  r2.onDatagram(data(16, 5, 0, 1024, 10));
  r2.onDatagram(data(17, 6, 0, 1024, 10));
  r2.onDatagram(data(18, 5, 0, 1024, 10));
  r2.onDatagram(commit(19, 3, 3, 10));
  t.same(got, [7], 'batch 10 refused');
  // Batch 11: pages 1 and 2 again (pages of batch 7 may come back in a later batch), whole: applied.
  r2.onDatagram(data(20, 1, 0, 1024, 11));
  r2.onDatagram(data(21, 2, 0, 1024, 11));
  r2.onDatagram(commit(22, 2, 2, 11));
  t.same(got, [7, 11], 'batch 11, with the pages of batch 7, applied');
  // Batch 12: a page in two ranges, in order, then a page cut short before the next: refused.
  r2.onDatagram(data(23, 3, 0, 512, 12));
  r2.onDatagram(data(24, 3, 512, 512, 12));
  r2.onDatagram(data(25, 4, 0, 512, 12));
  r2.onDatagram(data(26, 5, 0, 1024, 12));
  r2.onDatagram(commit(27, 4, 3, 12));
  t.same(got, [7, 11], 'batch 12 refused: page 4 stops at 512');
  // Batch 13: page 3 in two ranges, in order: applied.
  r2.onDatagram(data(28, 3, 0, 512, 13));
  r2.onDatagram(data(29, 3, 512, 512, 13));
  r2.onDatagram(commit(30, 2, 1, 13));
  t.same(got, [7, 11, 13], 'batch 13 applied');
  t.equal(r2.heldBytes, 0, 'nothing stays staged');
  t.equal(r2.counters.invalid, 3);
});

t.test('a COMMIT with no DATA before it is refused and asks for every page', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(commit(10, 0, 0));
  t.same(applied, []);
  t.same(resyncs, [[0, 0, true]], 'RESYNC FULL');
});

t.test('what only the incremental checks catch: a later DATA of another id, a range given twice, a last page cut short', async (t) => {
  const cases: [string, DataMessage[], CommitMessage][] = [
    ['the first DATA has the COMMIT id, a later one another', [data(10, 1, 0, 1024, 6), data(11, 2, 0, 1024, 5)], commit(12, 2, 2, 6)],
    ['page 3 gets its first half twice (the bytes add up to a page)', [data(10, 3, 0, 512), data(11, 3, 0, 512)], commit(12, 2, 1)],
    ['the last page stops at 512', [data(10, 3, 0, 1024), data(11, 4, 0, 512)], commit(12, 2, 2)],
  ];
  for (const [what, datas, c] of cases) {
    const { r, applied, resyncs } = receiver();
    for (const d of datas) r.onDatagram(d);
    r.onDatagram(c);
    t.same(applied, [], `${what}: not applied`);
    t.equal(resyncs.length, 1, `${what}: its pages asked for again`);
    t.equal(r.heldBytes, 0, `${what}: nothing staged`);
  }
});

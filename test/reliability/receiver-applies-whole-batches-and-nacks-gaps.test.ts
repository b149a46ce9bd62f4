// spec §5.4, §6.1, §7.3, §8.2, §12: the flow receiver applies a batch only when it is whole and
// in order, drops what is duplicate, invalid or beyond its window, NACKs each gap after the NACK
// delay and backs off while it stays open, and lets a REPLACES batch make older ones obsolete.
import t from 'tap';
import type { CommitMessage, DataMessage, SeqRange } from '../../src/udp/codec.js';
import { FlowReceiver, multicastNackDelay, runs, type ReceiverOptions } from '../../src/reliability/receiver.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const data = (seq: number, page: number, batchId = 1): DataMessage =>
  ({ ...env, type: 'data', flow: 'mo', seq, batchId, page, offset: 0, payload: Buffer.alloc(1024, page + 1) });
const commit = (seq: number, dataCount: number, o: Partial<CommitMessage> = {}): CommitMessage =>
  ({ ...env, type: 'commit', flow: 'mo', seq, batchId: 1, dataCount, pageCount: dataCount, replaces: false, full: false, ...o });

function receiver(o: Partial<ReceiverOptions> = {}) {
  const clock = new FakeClock();
  const applied: number[] = [];
  const nacks: SeqRange[][] = [];
  const resyncs: [number, number, boolean][] = [];
  const r = new FlowReceiver({
    flow: 'mo', firstSeq: 10, clock, geometry: { pageSize: 1024, wordSize: 8, pageCount: 8 },
    apply: (b) => applied.push(b.batchId), sendNack: (x) => nacks.push(x), requestResync: (...a) => resyncs.push(a), ...o,
  });
  return { r, clock, applied, nacks, resyncs };
}

t.test('a batch in order is applied once its COMMIT arrives, and the receiver is idle again', async (t) => {
  const { r, applied } = receiver();
  t.ok(r.idle, 'idle before anything arrived');
  t.equal(r.highestSeen, 9);
  t.equal(r.onDatagram(data(10, 0)), 'ok');
  t.equal(r.onDatagram(data(11, 1)), 'ok');
  t.same(applied, [], 'not before the COMMIT');
  t.notOk(r.idle, 'held datagrams make it busy');
  t.equal(r.pending, 2);
  t.equal(r.onDatagram(commit(12, 2)), 'ok');
  t.same(applied, [1]);
  t.ok(r.idle);
  t.equal(r.pending, 0);
  t.equal(r.expected, 13);
  t.equal(r.highestSeen, 12);
  t.match(r.counters, { datagrams: 3, batchesApplied: 1, bytes: 2048, duplicates: 0 });
});

t.test('duplicates, DATA that does not fit the segment and datagrams beyond the window are dropped and counted', async (t) => {
  const { r } = receiver({ window: 4 });
  r.onDatagram(data(10, 0));
  t.equal(r.onDatagram(data(10, 0)), 'duplicate', 'held already');
  r.onDatagram(commit(11, 1));
  t.equal(r.onDatagram(data(10, 0)), 'duplicate', 'applied already');
  t.equal(r.onDatagram({ ...data(12, 8) }), 'invalid', 'page 8 of 8');
  t.equal(r.onDatagram(data(16, 0)), 'window', '4 ahead of the apply point, window 4');
  t.equal(r.onDatagram(data(15, 0)), 'ok', '3 ahead is inside');
  t.match(r.counters, { duplicates: 2, invalid: 1, outOfWindow: 1 });
});

t.test('a gap is NACKed after the NACK delay, then again with a back-off that doubles up to its cap', async (t) => {
  const { r, clock, nacks } = receiver({ nackMaxMs: 300 });
  r.onDatagram(data(12, 2));
  t.equal(r.missing, 2, '10 and 11 are missing');
  clock.advance(9);
  t.equal(nacks.length, 0, 'reordering gets 10 ms to heal');
  clock.advance(1);
  t.same(nacks, [[{ first: 10, count: 2 }]]);
  const times: number[] = [];
  const start = clock.now();
  for (let i = 0; i < 6; i++) {
    const before = nacks.length;
    for (let ms = 0; ms < 1000 && nacks.length === before; ms++) clock.advance(1);
    times.push(clock.now() - start);
  }
  t.same(times, [50, 150, 350, 650, 950, 1250], 'retries after 50, 100, 200, then the 300 ms cap');
  t.equal(r.counters.nacksSent, 7);
});

t.test('a repair that fills part of the gap brings the retry back to the short interval', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(13, 3));
  clock.advance(10 + 50 + 100); // NACKs at 10, 60, 160: back-off now 200
  t.equal(nacks.length, 3);
  r.onDatagram(data(10, 0)); // part of the gap is repaired
  clock.advance(49);
  t.equal(nacks.length, 3);
  clock.advance(1);
  t.equal(nacks.length, 4, 'the rest is asked for 50 ms later');
  t.same(nacks.at(-1), [{ first: 11, count: 2 }]);
});

t.test('a heartbeat\'s highest sequence reveals a lost tail; a number past the serial window is ignored', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onHighestSeq(9);
  r.onHighestSeq(0x4000_0000 + 10);
  clock.advance(100);
  t.same(nacks, [], 'nothing new, and nothing believable');
  t.ok(r.idle);
  r.onHighestSeq(0x4000_0000 + 9);
  t.equal(r.highestSeen, 0x4000_0009, 'just inside 2**30 ahead is believed');
  const { r: r2, clock: c2, nacks: n2 } = receiver();
  r2.onHighestSeq(12);
  t.equal(r2.missing, 3);
  c2.advance(10);
  t.same(n2, [[{ first: 10, count: 3 }]]);
});

t.test('a NACK carries at most 64 ranges, the oldest first', async (t) => {
  const { r, clock, nacks } = receiver({ window: 1000 });
  for (let i = 0; i < 70; i++) r.onDatagram(data(11 + 2 * i, 0, 9));
  clock.advance(10);
  t.equal(nacks[0]?.length, 64);
  t.same(nacks[0]?.[0], { first: 10, count: 1 });
  t.same(nacks[0]?.[63], { first: 136, count: 1 });
});

t.test('a whole REPLACES batch is applied at once and the unapplied batch before it is dropped', async (t) => {
  const { r, applied } = receiver();
  r.onDatagram(data(11, 1)); // batch 1 is 10, 11 + COMMIT 12; 10 never comes
  r.onDatagram(commit(12, 2));
  r.onDatagram(commit(14, 1, { batchId: 2, replaces: true })); // REPLACES before its DATA
  t.same(applied, []);
  r.onDatagram(data(13, 4, 2));
  t.same(applied, [2], 'the replacement is applied');
  t.equal(r.expected, 15);
  t.ok(r.idle, 'nothing is waited for any more');
  t.equal(r.counters.batchesDropped, 1);
  t.equal(r.lastAppliedBatch, 2);
});

t.test('a COMMIT whose batch began before the apply point is dropped, not applied', async (t) => {
  const { r, applied } = receiver();
  r.onDatagram(data(10, 0));
  r.onDatagram(commit(11, 3)); // says its batch began at 8
  t.same(applied, []);
  t.equal(r.counters.batchesDropped, 1);
  t.equal(r.expected, 12);
});

t.test('a batch whose page count disagrees with its DATA asks for those pages again', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 2));
  r.onDatagram(data(11, 3));
  r.onDatagram(commit(12, 2, { pageCount: 1 }));
  t.same(applied, []);
  t.same(resyncs, [[2, 2, false]]);
  t.equal(r.counters.resyncsSent, 1);
});

t.test('a digest is compared only when the receiver is idle, and each differing run is resynced', async (t) => {
  const { r, resyncs } = receiver();
  r.onDatagram(data(10, 0));
  r.onDatagram(commit(11, 1));
  r.onDatagram(data(13, 0, 2)); // a gap: not idle
  const theirs = BigUint64Array.of(9n, 9n);
  t.same(r.onDigest(1, 0, theirs, () => 1n), [], 'not while something is missing');
  const { r: idle, resyncs: rs } = receiver();
  idle.onDatagram(data(10, 0));
  idle.onDatagram(commit(11, 1));
  t.same(idle.onDigest(1, 6, BigUint64Array.of(6n, 9n, 9n, 9n), (p) => BigInt(p)), [7], 'pages past the segment are not compared');
  t.same(rs, [[7, 1, false]]);
  t.same(resyncs, []);
});

t.test('close() stops the NACK timer and forgets what was held', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(12, 2));
  t.equal(clock.pending, 1, 'a gap arms one timer');
  r.close();
  t.equal(clock.pending, 0);
  clock.advance(100);
  t.same(nacks, []);
});

t.test('with a multicast back-off, each NACK waits its random delay', async (t) => {
  const { r, clock, nacks } = receiver({ nackBackoff: () => 30 });
  r.onDatagram(data(12, 2));
  clock.advance(29);
  t.equal(nacks.length, 0);
  clock.advance(1);
  t.equal(nacks.length, 1, 'the first after the random delay alone');
});

t.test('runs() groups sorted pages into [first, count], duplicates once', async (t) => {
  t.same(runs([5, 1, 2, 3, 3, 9, 10]), [[1, 3], [5, 1], [9, 2]]);
  t.same(runs([]), []);
});

t.test('the multicast NACK delay is a truncated exponential over [0, Tmax)', async (t) => {
  t.equal(multicastNackDelay(100, 1, 0), 0);
  t.equal(Math.round(multicastNackDelay(100, 1, 1)), 100, 'u = 1 reaches Tmax');
  t.equal(multicastNackDelay(100, 1, 0.5).toFixed(3), (100 * Math.log(1 + 0.5 * (Math.E - 1))).toFixed(3));
  const lambda = Math.log(8) + 1;
  t.equal(multicastNackDelay(100, 8, 0.5).toFixed(3), ((100 / lambda) * Math.log(1 + 0.5 * (Math.exp(lambda) - 1))).toFixed(3), 'λ = ln N + 1');
  t.ok(multicastNackDelay(100, 8, 0.5) > multicastNackDelay(100, 1, 0.5), 'a bigger group draws later times');
  t.equal(multicastNackDelay(100, 0, 0.5), multicastNackDelay(100, 1, 0.5), 'a group of 0 counts as 1');
});

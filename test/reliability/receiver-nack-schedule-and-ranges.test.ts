// The receiver's NACKs (spec §6.1, §7.5, §8.2, §12): when they go out (NACK Delay 10 ms,
// then NACK Retry 50 ms doubling to NACK Max 2 s; back to Retry when a repair fills part of
// the gap, back to Delay when a batch is applied), what they name (the missing numbers from
// the apply point, at most 64 ranges), and that nothing is NACKed once nothing is missing.
import t from 'tap';
import { FlowReceiver, multicastNackDelay, type ReceiverOptions } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage, SeqRange } from '../../src/udp/codec.js';
import { MAX_NACK_RANGES } from '../../src/udp/constants.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const data = (seq: number, page = 0, batchId = 1): DataMessage => ({
  ...env,
  type: 'data',
  flow: 'mo',
  seq,
  batchId,
  page,
  offset: 0,
  payload: Buffer.alloc(1024, 7),
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

function receiver(extra: Partial<ReceiverOptions> = {}) {
  const clock = new FakeClock();
  const nacks: { at: number; ranges: SeqRange[] }[] = [];
  const applied: number[] = [];
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq: 10,
    clock,
    geometry: { pageSize: 1024, wordSize: 8, pageCount: 8 },
    apply: (b) => applied.push(b.batchId),
    sendNack: (ranges) => nacks.push({ at: clock.now() - 1000, ranges: ranges.map((x) => ({ ...x })) }),
    requestResync: () => undefined,
    ...extra,
  });
  return { r, clock, nacks, applied };
}

t.test('a gap is NACKed 10 ms after it is seen, then after 50 ms, doubling up to 2 s (spec §12)', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(11)); // 10 is missing
  clock.advance(9);
  t.same(nacks, [], 'no NACK before NACK Delay: reordering may still heal it');
  clock.advance(1);
  t.same(nacks, [{ at: 10, ranges: [{ first: 10, count: 1 }] }], 'the missing number, from the apply point');
  clock.advance(10_000 - 10);
  t.same(
    nacks.map((n) => n.at),
    [10, 60, 160, 360, 760, 1560, 3160, 5160, 7160, 9160],
    'retry 50 ms, then doubling, capped at NACK Max',
  );
  t.equal(r.counters.nacksSent, 10);
});

t.test('NACK Retry and NACK Max are the options given', async (t) => {
  const { r, clock, nacks } = receiver({ nackDelayMs: 5, nackRetryMs: 20, nackMaxMs: 70 });
  r.onDatagram(data(11));
  clock.advance(300);
  t.same(
    nacks.map((n) => n.at),
    [5, 25, 65, 135, 205, 275],
  );
});

t.test('a repair that fills part of the gap brings the next NACK back to NACK Retry', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(13)); // 10..12 missing
  clock.advance(400); // NACKs at 10, 60, 160, 360; the next one would be at 760
  t.equal(nacks.length, 4);
  r.onDatagram(data(10)); // the sender is answering
  clock.advance(49);
  t.equal(nacks.length, 4);
  clock.advance(1);
  t.same(nacks.at(-1), { at: 450, ranges: [{ first: 11, count: 2 }] }, 'NACK Retry after the repair, for what is still missing');
});

t.test('a datagram that fills part of a gap never postpones a NACK already due sooner', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(12)); // 10 and 11 missing
  clock.advance(5);
  r.onDatagram(data(11, 1)); // reordering, before the first NACK
  clock.advance(5);
  t.same(nacks, [{ at: 10, ranges: [{ first: 10, count: 1 }] }], 'still at NACK Delay');
  // Now at NACK Retry (50 ms): the next NACK is due at 60.
  const { r: r2, clock: c2, nacks: n2 } = receiver();
  r2.onDatagram(data(12));
  c2.advance(30); // NACK at 10 for 10..11
  r2.onDatagram(data(10));
  c2.advance(30);
  t.same(
    n2.map((n) => n.at),
    [10, 60],
    'the repair at 30 leaves the NACK due at 60',
  );
  t.same(n2[1]?.ranges, [{ first: 11, count: 1 }]);
});

t.test('an applied batch brings the NACK timer back to NACK Delay', async (t) => {
  const { r, clock, nacks, applied } = receiver();
  r.onDatagram(data(11));
  r.onDatagram(commit(12, 2, 2));
  clock.advance(400); // backed off: the next NACK would be at 760
  r.onDatagram(data(10, 1));
  t.same(applied, [1]);
  const before = nacks.length;
  r.onDatagram(data(14, 0, 2)); // a new gap: 13
  clock.advance(9);
  t.equal(nacks.length, before);
  clock.advance(1);
  t.same(nacks.at(-1), { at: 410, ranges: [{ first: 13, count: 1 }] }, 'NACK Delay again, not the backed-off time');
});

t.test('when every missing number arrives the timer is cancelled and no NACK goes out', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(12));
  r.onDatagram(data(10));
  r.onDatagram(data(11, 1));
  t.equal(r.missing, 0);
  t.equal(clock.pending, 0, 'no timer left');
  clock.advance(5000);
  t.same(nacks, []);
});

t.test('a NACK names each run of missing numbers, the lost tail a heartbeat revealed included', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(11));
  r.onDatagram(data(13, 1));
  r.onDatagram(data(14, 2));
  r.onHighestSeq(20);
  t.equal(r.highestSeen, 20);
  t.equal(r.missing, 8, '10, 12, 15..20');
  clock.advance(10);
  t.same(nacks[0]?.ranges, [
    { first: 10, count: 1 },
    { first: 12, count: 1 },
    { first: 15, count: 6 },
  ]);
});

t.test('a heartbeat that reveals nothing new arms no NACK', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(10));
  r.onHighestSeq(10);
  r.onHighestSeq(5);
  t.equal(r.highestSeen, 10);
  t.equal(clock.pending, 0);
  clock.advance(100);
  t.same(nacks, []);
});

t.test(`a NACK carries at most ${MAX_NACK_RANGES} ranges, the first ones from the apply point, each whole (spec §6.1)`, async (t) => {
  const { r, clock, nacks } = receiver();
  // Hold 12, 15, 18, ...: 70 gaps of two numbers (10..11, 13..14, ...).
  for (let k = 0; k < 70; k++) r.onDatagram(data(12 + 3 * k, 0, 1000 + k));
  clock.advance(10);
  const ranges = nacks[0]?.ranges ?? [];
  t.equal(ranges.length, MAX_NACK_RANGES);
  t.same(ranges[0], { first: 10, count: 2 });
  t.same(ranges.at(-1), { first: 10 + 3 * (MAX_NACK_RANGES - 1), count: 2 }, 'the last range is not cut short');
  t.ok(
    ranges.every((x, i) => x.count === 2 && x.first === 10 + 3 * i),
    'each gap is its own range',
  );
});

t.test('with a multicast back-off the delay before each NACK is drawn afresh, after NACK Retry (spec §8.2)', async (t) => {
  const draws = [30, 7, 12];
  const { r, clock, nacks } = receiver({ nackBackoff: () => draws.shift() ?? 0 });
  r.onDatagram(data(11));
  clock.advance(29);
  t.same(nacks, [], 'the random delay, not NACK Delay');
  clock.advance(1);
  t.equal(nacks.length, 1);
  clock.advance(200);
  t.same(
    nacks.map((n) => n.at),
    [30, 30 + 50 + 7, 30 + 50 + 7 + 100 + 12],
  );
});

t.test('with a multicast back-off one delay is drawn per wait, not per datagram that arrives during it (spec §8.2)', async (t) => {
  // Found by mutation testing: each arrival drew again and the timer kept the earliest, so
  // eight datagrams after one gap NACKed at the smallest of eight draws.
  const draws = [40, 35, 30, 25, 20, 15, 10, 5];
  let drawn = 0;
  const { r, clock, nacks } = receiver({ nackBackoff: () => (drawn++, draws.shift() ?? 0) });
  for (let seq = 11; seq <= 18; seq++) {
    r.onDatagram(data(seq));
    clock.advance(1);
  }
  t.equal(drawn, 1, 'one draw for the one wait');
  clock.advance(30);
  t.same(nacks, [], 'nothing before the 40 ms drawn');
  clock.advance(2);
  t.same(
    nacks.map((n) => n.at),
    [40],
    'the NACK at the first draw',
  );
});

t.test('with a multicast back-off an applied batch resets the wait to the random delay alone', async (t) => {
  const { r, clock, nacks, applied } = receiver({ nackBackoff: () => 30 });
  r.onDatagram(data(11));
  r.onDatagram(commit(12, 2, 2));
  clock.advance(40); // NACK at 30; the next one is armed for 30 + 50 + 30
  t.equal(nacks.length, 1);
  r.onDatagram(data(10, 1));
  t.same(applied, [1]);
  r.onDatagram(data(14, 0, 2)); // a new gap: 13
  clock.advance(29);
  t.equal(nacks.length, 1);
  clock.advance(1);
  t.same(nacks.at(-1), { at: 70, ranges: [{ first: 13, count: 1 }] }, 'the draw of 30 ms, no NACK Delay or Retry added');
});

t.test('the multicast NACK delay is the truncated exponential of spec §8.2', async (t) => {
  t.equal(multicastNackDelay(100, 10, 0), 0, 'u = 0: at once');
  const lambda = Math.log(10) + 1;
  t.equal(multicastNackDelay(100, 10, 0.5), (100 / lambda) * Math.log(1 + 0.5 * (Math.exp(lambda) - 1)));
  t.ok(Math.abs(multicastNackDelay(100, 10, 1) - 100) < 1e-9, 'u -> 1: T max');
  t.equal(multicastNackDelay(100, 0, 0.5), multicastNackDelay(100, 1, 0.5), 'a group of 0 counts as 1');
  t.equal(multicastNackDelay(100, 1, 0.5), 100 * Math.log(1 + 0.5 * (Math.E - 1)));
  t.ok(multicastNackDelay(100, 100, 0.5) > multicastNackDelay(100, 2, 0.5), 'a larger group draws later times');
});

t.test('close() stops the NACK timer and releases what was held', async (t) => {
  const { r, clock, nacks } = receiver();
  r.onDatagram(data(11));
  t.equal(r.heldBytes, 1024);
  r.close();
  t.equal(r.heldBytes, 0);
  clock.advance(5000);
  t.same(nacks, []);
});

t.test('an applied batch with a gap still open never postpones the NACK already due (unicast)', async (t) => {
  // Found by mutation testing: the restart after an applied batch is for a multicast wait
  // only; a unicast NACK due at 10 stays at 10 when batch 1 completes at 5 with 13 missing.
  const { r, clock, nacks, applied } = receiver();
  r.onDatagram(data(11));
  r.onDatagram(commit(12, 2, 2));
  r.onDatagram(data(14, 0, 2)); // 10 and 13 missing: NACK due at 10
  clock.advance(5);
  r.onDatagram(data(10, 1));
  t.same(applied, [1], 'batch 1 applied at 5');
  clock.advance(5);
  t.same(nacks, [{ at: 10, ranges: [{ first: 13, count: 1 }] }], 'the NACK at 10, for 13 only');
});

t.test('with a multicast back-off an applied batch with a gap still open starts a new wait with a new draw', async (t) => {
  const draws = [30, 10];
  const { r, clock, nacks, applied } = receiver({ nackBackoff: () => draws.shift() ?? 1000 });
  r.onDatagram(data(11));
  r.onDatagram(commit(12, 2, 2));
  r.onDatagram(data(14, 0, 2)); // 10 and 13 missing: the wait drawn is 30 ms
  clock.advance(5);
  r.onDatagram(data(10, 1));
  t.same(applied, [1], 'batch 1 applied at 5');
  t.same(draws, [], 'the applied batch drew the next wait');
  clock.advance(9);
  t.same(nacks, [], 'nothing before 5 + 10');
  clock.advance(1);
  t.same(nacks, [{ at: 15, ranges: [{ first: 13, count: 1 }] }], 'the NACK at 15, not at the first wait’s 30');
});

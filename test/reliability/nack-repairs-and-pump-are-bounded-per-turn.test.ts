import t from 'tap';
import { PUMP_SLICE, PUMP_SLICE_MS } from '../../src/reliability/sender.js';
import { senderOver } from '../fixtures/sender.js';
import { nackSpans, RepairQueue } from '../../src/reliability/repairs.js';
import type { Clock } from '../../src/reliability/clock.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// issue 12: no PDSM task holds the event loop long. A NACK for a lost burst used to be
// walked (every number looked up in the history) inside the NACK's own callback, and one
// pump run made 256 datagrams however long each took. Work is counted here, not timed.

const PAGE = 1024;

/** A FakeClock whose time also moves by `costMs` for every datagram emitted (a slow send). */
function setup(pages: number, costMs = 0) {
  const fake = new FakeClock();
  let spent = 0;
  const sent: (DataMessage | CommitMessage)[] = [];
  /** Datagrams each timer callback (a pump run) made. */
  const runs: number[] = [];
  const clock: Clock = {
    now: () => fake.now() + spent,
    setTimeout: (fn, ms) =>
      fake.setTimeout(() => {
        const before = sent.length;
        fn();
        runs.push(sent.length - before);
      }, ms),
    clearTimeout: (h) => fake.clearTimeout(h),
  };
  const snapshot = Buffer.alloc(pages * PAGE, 1);
  const s = senderOver(snapshot, PAGE, {
    clock,
    emit: (m) => {
      sent.push(m);
      spent += costMs;
    },
    flowControl: false,
  });
  return { s, sent, runs, advance: (ms: number) => fake.advance(ms) };
}

t.test('nackSpans clips, splits held from lost, and merges overlapping ranges oldest first', async (t) => {
  // next_seq 101, 100 sent (1..100), the history holds the newest 60 (41..100).
  const r = nackSpans(
    [
      { first: 50, count: 10 }, // 50..59: d 51..42
      { first: 55, count: 10 }, // 55..64: overlaps the first
      { first: 80, count: 1 }, // d 21
      { first: 30, count: 15 }, // 30..44: 30..40 lost (d 71..61), 41..44 held (d 60..57)
      { first: 200, count: 5 }, // not sent yet
    ],
    101,
    100,
    60,
  );
  t.same(r.spans, [
    [57, 60],
    [37, 51],
    [21, 21],
  ]);
  t.equal(r.oldestLostD, 71);
  t.equal(r.ignored, 1);
});

t.test('a NACK of a whole burst queues spans: the pump retransmits them in bounded runs, once each', async (t) => {
  const pages = 2000;
  const { s, sent, runs, advance } = setup(pages);
  s.sendBatch(Array.from({ length: pages }, (_, i) => i));
  advance(1);
  t.equal(sent.length, pages + 1, 'the batch left');
  const before = sent.length;
  s.onNack([{ first: 1, count: pages + 1 }]);
  t.equal(sent.length - before, PUMP_SLICE, 'the NACK itself makes one pump run, no more');
  runs.length = 0;
  advance(1);
  t.ok(
    runs.every((n) => n <= PUMP_SLICE),
    'every later run is bounded too',
  );
  t.ok(runs.length >= Math.ceil((pages + 1) / PUMP_SLICE) - 1, `the rest took ${runs.length} runs`);
  t.equal(sent.length - before, pages + 1, 'every number retransmitted');
  t.equal(s.counters.retransmits, pages + 1);
  t.same(
    sent.slice(before).map((m) => m.seq),
    Array.from({ length: pages + 1 }, (_, i) => i + 1),
    'oldest first, each once',
  );
  // The same NACK again within the hold-off (20 ms): looked at, nothing sent twice.
  s.onNack([{ first: 1, count: pages + 1 }]);
  advance(1);
  t.equal(s.counters.retransmits, pages + 1, 'hold-off: no second copy');
  t.notOk(s.sending, 'nothing left queued');
});

t.test('a pump run stops after PUMP_SLICE_MS of its own time, whatever the datagram count', async (t) => {
  const { s, sent, runs, advance } = setup(200, 1); // every datagram "costs" 1 ms
  s.sendBatch(Array.from({ length: 200 }, (_, i) => i));
  t.ok(sent.length < PUMP_SLICE, `the first run made ${sent.length}, fewer than ${PUMP_SLICE}`);
  t.ok(sent.length <= PUMP_SLICE_MS + 16, 'it stopped within one check interval of its deadline');
  advance(1);
  t.equal(sent.length, 201, 'the rest left on later runs');
  t.ok(
    runs.every((n) => n <= PUMP_SLICE_MS + 16),
    'each of them bounded by its time',
  );
});

t.test('RepairQueue hands out numbers in order across jobs and wraps sequence numbers', async (t) => {
  const q = new RepairQueue(() => 100);
  const route = { to: () => {}, limit: undefined, oversized: false };
  t.equal(q.push(0xffff_fffe, 3, route, 5), 0, 'nothing shed');
  q.push(7, 1, route, 6);
  q.push(9, 0, route, 7); // empty: ignored
  t.equal(q.length, 4);
  const got: number[] = [];
  const asked: number[] = [];
  for (let r = q.take(); r !== undefined; r = q.take()) {
    got.push(r.seq);
    asked.push(r.askedAt);
  }
  t.same(got, [0xffff_fffe, 0xffff_ffff, 0, 7]);
  t.same(asked, [5, 5, 5, 6], 'each number carries when its NACK came');
  t.notOk(q.pending);
  t.equal(q.length, 0);
});

t.test('RepairQueue holds at most its cap and sheds the rest of a NACK', async (t) => {
  let cap = 10;
  const q = new RepairQueue(() => cap);
  const route = { to: () => {}, limit: undefined, oversized: false };
  t.equal(q.push(1, 8, route, 0), 0);
  t.equal(q.push(100, 5, route, 0), 3, 'two fit, three shed');
  t.equal(q.length, 10);
  t.equal(q.push(200, 1, route, 0), 1, 'full: all shed');
  q.take();
  t.equal(q.length, 9, 'a number taken frees its room');
  cap = 20;
  t.equal(q.push(300, 4, route, 0), 0, 'the cap is read at each push (it follows the history)');
  const got: number[] = [];
  for (let r = q.take(); r !== undefined; r = q.take()) got.push(r.seq);
  t.same(got, [2, 3, 4, 5, 6, 7, 8, 100, 101, 300, 301, 302, 303], 'the shed numbers never come out');
});

t.test('a NACK of lost and held numbers retransmits exactly the held ones it named, before the replacement', async (t) => {
  const fake = new FakeClock();
  const snapshot = Buffer.alloc(100 * PAGE, 1);
  const sent: (DataMessage | CommitMessage)[] = [];
  const resent: number[] = [];
  // History holds the newest 50 datagrams (each entry costs its payload and a 40-byte header).
  const s = senderOver(snapshot, PAGE, { clock: fake, emit: (m) => sent.push(m), flowControl: false, historyBytes: 50 * (PAGE + 40) });
  for (let b = 0; b < 10; b++) s.sendBatch(Array.from({ length: 10 }, (_, i) => b * 10 + i));
  for (let i = 0; i < 100 && s.sending; i++) fake.advance(1);
  t.equal(s.highestSeq, 110, '10 batches of 10 DATA and a COMMIT: 1..110');
  const before = sent.length;
  s.onNack([{ first: 40, count: 71 }], (m) => resent.push(m.seq)); // 40..60 lost, 61..110 held
  for (let i = 0; i < 100 && s.sending; i++) fake.advance(1);
  // The history holds the newest 50 DATA at least (a COMMIT costs only its header): 61..110
  // and a few before. Those are exactly what must be sent again, not numbers after 110.
  const first = resent[0] ?? 0;
  t.ok(first > 40 && first <= 61, `the retransmissions start inside the NACK, in what the history holds (${first})`);
  t.same(
    resent,
    Array.from({ length: 111 - first }, (_, i) => first + i),
    `the held numbers ${first}..110 retransmitted, each once, none after 110`,
  );
  t.equal(s.counters.nackedTooOld, 1, 'the lost part drew a replacement');
  t.ok(sent.length > before && sent.slice(before).every((m) => m.seq > 110), 'the replacement went on the stream as new numbers');
});

t.test('duplicate NACKs while a long repair is paced out cost one retransmission per number', async (t) => {
  const fake = new FakeClock();
  const pages = 2000;
  const snapshot = Buffer.alloc(pages * PAGE, 1);
  let sent = 0;
  const s = senderOver(snapshot, PAGE, { clock: fake, emit: () => sent++, flowControl: { initialRate: 8000, maxRate: 8000 } });
  s.sendBatch(Array.from({ length: pages }, (_, i) => i));
  for (let i = 0; i < 5000 && s.sending; i++) fake.advance(1);
  t.equal(sent, pages + 1, 'the batch left');
  // Three receivers (a multicast group) NACK the same loss within 2 ms; the repair takes
  // about 250 ms at 8,000 datagrams/s, far past the 20 ms hold-off.
  for (let i = 0; i < 3; i++) {
    s.onNack([{ first: 1, count: pages + 1 }]);
    fake.advance(1);
  }
  for (let i = 0; i < 5000 && s.sending; i++) fake.advance(1);
  t.notOk(s.sending, 'the repairs ended');
  t.equal(s.counters.retransmits, pages + 1, 'each number once, not once per NACK');
  // A NACK after the repair (the receiver still misses some): answered again.
  s.onNack([{ first: 5, count: 3 }]);
  for (let i = 0; i < 100 && s.sending; i++) fake.advance(1);
  t.equal(s.counters.retransmits, pages + 4, 'a later NACK is a new request');
});

t.test('a peer that NACKs the whole history faster than repairs leave cannot grow the queue', async (t) => {
  const fake = new FakeClock();
  const pages = 2000;
  const snapshot = Buffer.alloc(pages * PAGE, 1);
  const s = senderOver(snapshot, PAGE, { clock: fake, emit: () => {}, flowControl: { initialRate: 8000, maxRate: 8000 } });
  s.sendBatch(Array.from({ length: pages }, (_, i) => i));
  for (let i = 0; i < 5000 && s.sending; i++) fake.advance(1);
  let most = 0;
  for (let i = 0; i < 200; i++) {
    s.onNack([{ first: 1, count: pages + 1 }]); // every 5 ms for 1 s
    most = Math.max(most, s.repairsQueued);
    fake.advance(5);
  }
  t.ok(most <= 65_536, `the queue peaked at ${most} numbers, within its cap`);
  t.ok(s.counters.nackShed > 0, `${s.counters.nackShed} NACKed numbers were shed`);
  t.ok(s.counters.retransmits <= 2 * (pages + 1) * 5, `retransmits stay near one per number per hold-off window, not per NACK (${s.counters.retransmits})`);
  const highest = s.highestSeq;
  s.sendBatch([0]);
  for (let i = 0; i < 20_000 && s.sending; i++) fake.advance(1);
  t.notOk(s.sending, `the flow drained once the flood stopped (after ${fake.now()} ms)`);
  t.ok(s.highestSeq > highest, 'and the new batch left');
  t.comment(`retransmits ${s.counters.retransmits}, shed ${s.counters.nackShed}, peak ${most}`);
});

t.test('repairs alone also stop a pump run after PUMP_SLICE_MS', async (t) => {
  const { s, sent, advance } = setup(2000);
  s.sendBatch(Array.from({ length: 2000 }, (_, i) => i));
  advance(1);
  const cost = setup(2000, 1); // every datagram "costs" 1 ms
  cost.s.sendBatch(Array.from({ length: 2000 }, (_, i) => i));
  cost.advance(1);
  t.equal(cost.sent.length, 2001, 'the batch left');
  const before = cost.sent.length;
  cost.s.onNack([{ first: 1, count: 2001 }]);
  const made = cost.sent.length - before;
  t.ok(made > 0 && made <= PUMP_SLICE_MS + 16, `the NACK's own run made ${made} repairs, not ${PUMP_SLICE}`);
  t.equal(sent.length, 2001, 'the cost-free sender is the control: it sent its batch whole');
  s.onNack([{ first: 1, count: 2001 }]);
  t.equal(sent.length - 2001, PUMP_SLICE, 'without a cost, the run is bounded by PUMP_SLICE');
});

t.test('nackSpans: a range wholly older than the history gives no span, only its oldest back-distance', async (t) => {
  // next_seq 101, 100 sent, the newest 60 held (d 1..60). 31..40 is d 70..61: all lost, the
  // last of it just before the oldest held.
  const r = nackSpans([{ first: 31, count: 10 }], 101, 100, 60);
  t.same(r.spans, [], 'nothing held to retransmit');
  t.equal(r.oldestLostD, 70);
  t.equal(r.ignored, 0);
  const edge = nackSpans([{ first: 31, count: 11 }], 101, 100, 60); // one more: d 60, the oldest held
  t.same(edge.spans, [[60, 60]]);
});

t.test('nackSpans merges adjacent and overlapping spans into one, whichever span they follow', async (t) => {
  const adjacent = nackSpans(
    [
      { first: 90, count: 5 }, // d 11..7
      { first: 95, count: 5 }, // d 6..2: adjacent
    ],
    101,
    100,
    100,
  );
  t.same(adjacent.spans, [[2, 11]], 'adjacent: one span');
  const overlapByOne = nackSpans(
    [
      { first: 90, count: 5 }, // d 11..7
      { first: 94, count: 3 }, // d 7..5: shares d 7
    ],
    101,
    100,
    100,
  );
  t.same(overlapByOne.spans, [[5, 11]], 'overlapping by one number: one span');
  const fourth = nackSpans(
    [
      { first: 10, count: 1 }, // d 91
      { first: 30, count: 1 }, // d 71
      { first: 50, count: 5 }, // d 51..47
      { first: 53, count: 5 }, // d 48..44: overlaps the third span
    ],
    101,
    100,
    100,
  );
  t.same(
    fourth.spans,
    [
      [91, 91],
      [71, 71],
      [44, 51],
    ],
    'the fourth range merges into the third span, not a new one',
  );
});

t.test('close() with repairs queued: nothing is left to send', async (t) => {
  const fake = new FakeClock();
  const s = senderOver(Buffer.alloc(100 * PAGE, 1), PAGE, { clock: fake, emit: () => {}, flowControl: { burst: 1, initialRate: 1, minRate: 1 } });
  s.sendBatch([0]);
  fake.advance(2000);
  fake.advance(2000); // DATA and COMMIT left, one a second
  fake.advance(100);
  s.onNack([{ first: 1, count: 2 }]);
  s.onNack([{ first: 1, count: 2 }]);
  t.ok(s.repairsQueued > 0, `repairs wait for tokens (${s.repairsQueued})`);
  s.close();
  t.equal(s.repairsQueued, 0);
  t.notOk(s.sending, 'not sending once closed');
});

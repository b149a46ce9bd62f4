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
  const q = new RepairQueue();
  const route = { to: () => {}, limit: undefined };
  q.push(0xffff_fffe, 3, route);
  q.push(7, 1, route);
  q.push(9, 0, route); // empty: ignored
  t.equal(q.length, 4);
  const got: number[] = [];
  for (let r = q.take(); r !== undefined; r = q.take()) got.push(r.seq);
  t.same(got, [0xffff_fffe, 0xffff_ffff, 0, 7]);
  t.notOk(q.pending);
});

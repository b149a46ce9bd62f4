import t from 'tap';
import { historyBytesFor, PUMP_SLICE, type BatchEvent } from '../../src/reliability/sender.js';
import { senderOver } from '../fixtures/sender.js';
import { maxDataPayload, type CommitMessage, type DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// The sender's own promises, checked directly (issue 18: the mutation run found them unchecked):
// what it counts, what it refuses, what progress says, and what close() stops.

const PAGES = 8;
const PAGE = 1024;

function make(extra: { historyBytes?: number; mtu?: number; firstSeq?: number; holdBatches?: () => boolean } = {}) {
  const clock = new FakeClock();
  const sent: (DataMessage | CommitMessage)[] = [];
  const events: BatchEvent[] = [];
  const snapshot = Buffer.alloc(PAGES * PAGE);
  for (let i = 0; i < snapshot.length; i++) snapshot[i] = i & 0xff;
  const s = senderOver(snapshot, PAGE, {
    firstSeq: extra.firstSeq ?? 100,
    mtu: extra.mtu ?? 1200,
    clock,
    flowControl: false,
    ...(extra.historyBytes !== undefined ? { historyBytes: extra.historyBytes } : {}),
    ...(extra.holdBatches ? { holdBatches: extra.holdBatches } : {}),
    emit: (m) => sent.push(m),
    onBatch: (e) => events.push(e),
  });
  return { clock, sent, events, s };
}

const CHUNK = Math.min(PAGE, maxDataPayload(1200, 8, false));
const PER_PAGE = Math.ceil(PAGE / CHUNK);

t.test('historyBytesFor: a full batch and a quarter more, at least 16 MiB', async (t) => {
  t.equal(historyBytesFor(1024, 1024), 16 * 1024 * 1024, 'small regions get the floor');
  const region = 64 * 1024 * 1024;
  const datagrams = Math.ceil(region / 1000) + 1;
  t.equal(historyBytesFor(region, 1000), Math.ceil((region + datagrams * 40) * 1.25));
});

t.test('an MTU with no room for a word is refused by name', async (t) => {
  t.throws(() => make({ mtu: 40 }), /MTU 40 leaves no room for a word of page data/);
});

t.test('one batch: datagrams, counters, events and ids', async (t) => {
  const { sent, events, s } = make();
  t.equal(s.lastBatchId, 0, 'no batch yet');
  t.equal(s.highestSeq, 99, 'firstSeq - 1 before anything was sent');
  t.equal(s.sending, false);
  s.sendBatch([3, 1]);
  t.equal(s.lastBatchId, 1);
  t.equal(sent.length, 2 * PER_PAGE + 1, 'every chunk of both pages and a COMMIT');
  t.equal(s.highestSeq, 100 + 2 * PER_PAGE);
  const data = sent.filter((m): m is DataMessage => m.type === 'data');
  t.same(
    data.map((d) => [d.page, d.offset, d.payload.byteLength]),
    [3, 1].flatMap((p) => Array.from({ length: PER_PAGE }, (_, k) => [p, k * CHUNK, Math.min(CHUNK, PAGE - k * CHUNK)])),
    'pages in the order given, chunk by chunk, none past the page end',
  );
  t.same(
    sent.map((m) => m.seq),
    Array.from({ length: sent.length }, (_, i) => 100 + i),
    'consecutive sequence numbers from firstSeq',
  );
  const commit = sent.at(-1) as CommitMessage;
  t.match(commit, { type: 'commit', batchId: 1, dataCount: 2 * PER_PAGE, pageCount: 2, replaces: false, full: false });
  t.same(s.counters.batches, 1);
  t.equal(s.counters.datagrams, sent.length);
  t.equal(s.counters.bytes, 2 * PAGE, 'page bytes, not datagram bytes');
  t.equal(s.historyBytes, sent.length * 40 + 2 * PAGE, 'each entry costs its payload plus 40');
  t.same(
    events.map((e) => [e.kind, e.batchId, e.pages, e.datagrams, e.bytes]),
    [
      ['start', 1, 2, 2 * PER_PAGE + 1, 2 * PAGE],
      ['end', 1, 2, 2 * PER_PAGE + 1, 2 * PAGE],
    ],
  );
  t.equal(events[1]!.durationMs, 0, 'sent in one turn on the fake clock');
  s.sendBatch([]);
  t.equal(s.lastBatchId, 1, 'an empty page list is no batch');
  t.equal(s.counters.batches, 1);
  s.sendBatch([0]);
  t.equal(s.lastBatchId, 2, 'ids count up');
  t.equal(s.counters.fullBatches, 0);
  t.equal(s.counters.replaces, 0);
  s.sendFull();
  t.equal(s.counters.fullBatches, 1);
  t.equal(s.counters.replaces, 1, 'a full batch replaces');
  t.match(sent.at(-1), { type: 'commit', full: true, replaces: true, pageCount: PAGES });
});

t.test('RESYNC: out-of-segment requests are refused whole; a full one folds into a queued full batch', async (t) => {
  const { sent, s } = make();
  for (const [first, count] of [
    [0, 0],
    [-1, 2],
    [7, 2],
    [0, PAGES + 1],
    [0.5, 1],
    [0, 1.5],
  ] as const) {
    const before = sent.length;
    t.equal(s.onResync(first, count, false), false, `first ${first} count ${count} refused`);
    t.equal(sent.length, before, 'and nothing sent');
  }
  t.equal(s.counters.resyncsRefused, 6);
  t.equal(s.onResync(0, 1, false), true, 'page 0 alone is valid');
  t.equal(s.onResync(PAGES - 1, 1, false), true, 'the last page alone is valid');
  t.equal(s.onResync(2, 3, false), true);
  const commits = sent.filter((m): m is CommitMessage => m.type === 'commit');
  t.same(
    commits.map((c) => [c.pageCount, c.full]),
    [
      [1, false],
      [1, false],
      [3, false],
    ],
  );
  t.same(
    [...new Set(sent.filter((m): m is DataMessage => m.type === 'data' && m.batchId === 3).map((d) => d.page))],
    [2, 3, 4],
    'pages first .. first + count - 1',
  );
  t.equal(s.counters.resyncsRefused, 6);
  t.equal(s.onResync(0, 0, true), true, 'a full RESYNC is answered');
  t.equal(s.counters.fullBatches, 1);
  t.equal(s.counters.resyncsCoalesced, 0, 'nothing was queued to fold it into');
});

t.test('a full RESYNC while a full batch waits unbegun is folded into it', async (t) => {
  let hold = true;
  const { sent, s } = make({ firstSeq: 1, holdBatches: () => hold });
  s.sendBatch([1]);
  t.equal(s.onResync(0, 0, true), true);
  t.equal(s.counters.resyncsCoalesced, 0, 'the queued batch is not full');
  t.equal(s.onResync(0, 0, true), true);
  t.equal(s.counters.resyncsCoalesced, 1, 'the second full RESYNC folds into the first');
  t.equal(s.counters.fullBatches, 1);
  t.equal(sent.length, 0, 'held: nothing left');
  t.equal(s.sending, true, 'batches wait');
  t.equal(s.progress?.bytesDone, 0);
  t.equal(s.progress?.rate, 0, 'no rate before the first datagram');
  t.equal(s.progress?.etaS, undefined);
  hold = false;
  s.kick();
  t.equal(sent.filter((m) => m.type === 'commit').length, 2, 'kick() sends both');
  t.equal(s.sending, false);
  t.equal(s.progress, undefined, 'no batch, no progress');
});

t.test('close(): no datagram after it, whatever is asked', async (t) => {
  const { sent, s } = make();
  s.sendBatch([0]);
  const n = sent.length;
  s.close();
  s.sendBatch([1]);
  s.sendFull();
  s.onNack([{ first: 100, count: 1 }]);
  s.kick();
  t.equal(sent.length, n);
  t.equal(s.lastBatchId, 1, 'no batch queued after close');
});

t.test('NACKs for numbers not yet sent or before the session are ignored', async (t) => {
  const { sent, s } = make();
  s.sendBatch([0]);
  const n = sent.length;
  s.onNack([{ first: 100 + n, count: 5 }]);
  s.onNack([{ first: 90, count: 10 }]);
  s.onNack([{ first: 100, count: 0 }]);
  t.equal(s.counters.nackIgnored, 3);
  t.equal(s.counters.retransmits, 0);
  t.equal(s.counters.nackedTooOld, 0);
  t.equal(sent.length, n, 'nothing sent');
  s.onNack([{ first: 95, count: 6 }]);
  t.equal(s.counters.retransmits, 1, 'a range reaching into the session repairs its part: seq 100');
  t.equal(sent.at(-1)!.seq, 100);
});

t.test('a full RESYNC after a full batch has begun is a new full batch, not folded into it', async (t) => {
  // More pages than one pump run makes datagrams (PUMP_SLICE), so the first full batch is
  // begun and left half sent until the clock moves.
  const pages = PUMP_SLICE + 40;
  const clock = new FakeClock();
  const sent: (DataMessage | CommitMessage)[] = [];
  const s = senderOver(Buffer.alloc(pages * PAGE, 7), PAGE, { clock, mtu: 1200, flowControl: false, emit: (m) => sent.push(m) });
  s.sendFull();
  t.equal(PER_PAGE, 1);
  t.equal(sent.length, PUMP_SLICE, 'one pump run made a slice of the batch');
  t.equal(s.progress?.bytesDone, PUMP_SLICE * PAGE, 'the batch has begun');
  t.equal(s.onResync(0, 0, true), true);
  t.equal(s.counters.resyncsCoalesced, 0, 'a begun batch may not hold what changed since it began');
  t.equal(s.counters.fullBatches, 2, 'a second full batch is queued');
  for (let i = 0; i < 100 && s.sending; i++) clock.advance(1);
  t.equal(s.sending, false, 'both batches sent');
  t.same(
    sent.filter((m): m is CommitMessage => m.type === 'commit').map((c) => [c.batchId, c.full, c.pageCount]),
    [
      [1, true, pages],
      [2, true, pages],
    ],
  );
});

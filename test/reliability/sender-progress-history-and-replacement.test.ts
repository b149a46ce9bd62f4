import t from 'tap';
import { PUMP_SLICE, type SenderOptions } from '../../src/reliability/sender.js';
import { senderOver } from '../fixtures/sender.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// What the sender promises beyond counting (issue 18: mutants in these paths survived): what
// `progress` says mid-batch, which datagrams the byte-bounded history keeps, which pages a
// replacement batch carries, that it is sent once, the repair hold-off's edge, and that
// overlapping NACK ranges repair each number once, oldest first. Pages of 512 bytes fit one
// DATA each at MTU 1200, so datagram n of a batch is its n-th page.

const PAGE = 512;
const ENTRY = 40 + PAGE; // a DATA's cost against History Bytes (a COMMIT costs 40)

function make(pages: number, extra: Partial<Pick<SenderOptions, 'historyBytes' | 'batchLimit' | 'holdBatches'>> = {}) {
  const clock = new FakeClock();
  const sent: (DataMessage | CommitMessage)[] = [];
  const snapshot = Buffer.alloc(pages * PAGE);
  for (let i = 0; i < snapshot.length; i++) snapshot[i] = (i * 7) & 0xff;
  const s = senderOver(snapshot, PAGE, {
    firstSeq: 100,
    clock,
    flowControl: false,
    ...extra,
    emit: (m) => sent.push(m),
  });
  return { clock, sent, s };
}

const commits = (sent: readonly (DataMessage | CommitMessage)[]): CommitMessage[] => sent.filter((m): m is CommitMessage => m.type === 'commit');
const pagesOf = (sent: readonly (DataMessage | CommitMessage)[], batchId: number): number[] =>
  sent.filter((m): m is DataMessage => m.type === 'data' && m.batchId === batchId).map((d) => d.page);

t.test('progress mid-batch: bytes done of total, the rate since the first DATA, and the time left', async (t) => {
  let hold = false;
  const { clock, sent, s } = make(PUMP_SLICE + 44, { holdBatches: () => hold });
  s.sendFull();
  t.equal(sent.length, PUMP_SLICE, 'one pump run makes PUMP_SLICE datagrams, then yields');
  t.same(
    s.progress,
    { batchId: 1, full: true, bytesDone: PUMP_SLICE * PAGE, bytesTotal: (PUMP_SLICE + 44) * PAGE, rate: 0 },
    'no time has passed: no rate, no ETA',
  );
  hold = true;
  clock.advance(1000);
  t.equal(sent.length, PUMP_SLICE, 'held: nothing more left');
  const rate = (PUMP_SLICE * PAGE) / 1;
  t.same(s.progress, {
    batchId: 1,
    full: true,
    bytesDone: PUMP_SLICE * PAGE,
    bytesTotal: (PUMP_SLICE + 44) * PAGE,
    rate,
    etaS: Math.round(((44 * PAGE) / rate) * 10) / 10,
  });
  t.equal(s.progress?.etaS, 0.2, '44 pages left at 256 pages a second');
  hold = false;
  s.kick();
  t.equal(commits(sent).length, 1, 'the batch ends');
  t.equal(s.progress, undefined);
});

t.test('the history keeps the newest datagrams within History Bytes, and NACKs see exactly that', async (t) => {
  const { sent, s } = make(8, { historyBytes: 3 * ENTRY });
  s.sendBatch([1, 2, 3, 4]); // seq 100..103 DATA, 104 COMMIT
  t.equal(sent.length, 5);
  // 100, 101, 102 fill it exactly; 103 pushes out 100; the COMMIT pushes out 101.
  t.equal(s.historyBytes, 2 * ENTRY + 40, 'DATA 102, 103 and the COMMIT are held');
  s.onNack([{ first: 102, count: 3 }]);
  t.same(
    sent.slice(5).map((m) => m.seq),
    [102, 103, 104],
    'the held ones are retransmitted as they were',
  );
  t.equal(sent[5], sent[2], 'the same datagram, not a rebuilt one');
  t.equal(s.counters.retransmits, 3);
  t.equal(s.counters.nackedTooOld, 0);
  t.equal(s.counters.nacksReceived, 1);
  s.onNack([{ first: 101, count: 1 }]);
  t.equal(s.counters.nackedTooOld, 1, '101 fell out');
  t.equal(s.counters.nacksReceived, 2);
  const replacement = commits(sent).at(-1)!;
  t.match(replacement, { batchId: 2, replaces: true, full: false, pageCount: 4 }, 'a replacement of the batch it belonged to');
  t.same(pagesOf(sent, 2), [1, 2, 3, 4]);
});

t.test('a replacement carries the batch of the lost number and every later one, not earlier ones', async (t) => {
  const { sent, s } = make(8, { historyBytes: 2 * ENTRY });
  s.sendBatch([0, 1]); // 100, 101, COMMIT 102
  s.sendBatch([5]); // 103, COMMIT 104
  s.sendBatch([6]); // 105, COMMIT 106
  s.onNack([{ first: 103, count: 1 }]);
  t.equal(s.counters.nackedTooOld, 1);
  t.same(pagesOf(sent, 4), [5, 6], 'batches 2 and 3, in page order; batch 1 stays applied');
  t.match(commits(sent).at(-1), { batchId: 4, replaces: true, full: false, pageCount: 2 });
});

t.test('a replacement also carries batches queued but not begun', async (t) => {
  let hold = false;
  const { sent, s } = make(8, { historyBytes: 2 * ENTRY, holdBatches: () => hold });
  s.sendBatch([3]); // 100, COMMIT 101
  s.sendBatch([4]); // 102, COMMIT 103
  s.sendBatch([2]); // 104, COMMIT 105: 100..103 are gone
  hold = true;
  s.sendBatch([7]); // queued, not begun
  s.onNack([{ first: 102, count: 1 }]);
  hold = false;
  s.kick();
  t.same(pagesOf(sent, 4), [7], 'the queued batch leaves first');
  t.same(pagesOf(sent, 5), [2, 4, 7], 'the replacement: batches 2 and 3 and the queued one');
  t.match(commits(sent).at(-1), { batchId: 5, replaces: true });
});

t.test('a number older than every batch record is answered by a full batch', async (t) => {
  const { sent, s } = make(8, { historyBytes: 2 * ENTRY, batchLimit: 1 });
  s.sendBatch([0]); // 100, COMMIT 101
  s.sendBatch([1]); // 102, COMMIT 103: only this batch's record is kept
  s.onNack([{ first: 100, count: 1 }]);
  t.match(commits(sent).at(-1), { batchId: 3, full: true, replaces: true, pageCount: 8 }, 'its page list is gone: every page');
  t.equal(s.counters.fullBatches, 1);
});

t.test('the replacement is sent once, however often the lost number is NACKed while it is held', async (t) => {
  // Room for the replacement (4 DATA and its COMMIT) and one COMMIT more.
  const { clock, sent, s } = make(8, { historyBytes: 4 * ENTRY + 80 });
  s.sendBatch([0]); // 100, COMMIT 101
  s.sendBatch([0, 1, 2, 3]); // 102..105, COMMIT 106: 100 is gone
  s.onNack([{ first: 100, count: 1 }]);
  t.equal(s.counters.replaces, 1);
  t.same(pagesOf(sent, 3), [0, 1, 2, 3], 'pages 0..3 once each');
  const n = sent.length;
  clock.advance(100);
  s.onNack([{ first: 100, count: 2 }]);
  s.onNack([{ first: 101, count: 1 }]);
  t.equal(s.counters.replaces, 1, 'the replacement in history covers them');
  t.equal(sent.length, n, 'and nothing else is sent');
  t.equal(s.counters.nackedTooOld, 1, 'counted once, when it was answered');
});

t.test('the repair hold-off: a number retransmitted less than holdOffMs ago is not queued again', async (t) => {
  const { clock, sent, s } = make(8);
  s.sendBatch([0, 1]);
  const n = sent.length;
  s.onNack([{ first: 101, count: 1 }]);
  t.equal(sent.length, n + 1);
  clock.advance(19);
  s.onNack([{ first: 101, count: 1 }]);
  t.equal(sent.length, n + 1, '19 ms later: held off');
  clock.advance(1);
  s.onNack([{ first: 101, count: 1 }]);
  t.equal(sent.length, n + 2, '20 ms later: sent again');
  t.equal(s.counters.retransmits, 2);
});

t.test('overlapping and repeated ranges repair each number once, oldest first', async (t) => {
  const { sent, s } = make(16);
  s.sendBatch(Array.from({ length: 12 }, (_, i) => i)); // 100..111, COMMIT 112
  const n = sent.length;
  s.onNack([
    { first: 106, count: 3 },
    { first: 100, count: 4 },
    { first: 102, count: 6 },
    { first: 104, count: 1 },
  ]);
  t.same(
    sent.slice(n).map((m) => m.seq),
    [100, 101, 102, 103, 104, 105, 106, 107, 108],
    '100..108, once each, in order',
  );
  t.equal(s.counters.retransmits, 9);
});

t.test('a range reaching past the newest number repairs up to it and no further', async (t) => {
  const { sent, s } = make(8);
  s.sendBatch([0, 1, 2]); // 100..102, COMMIT 103
  const n = sent.length;
  s.onNack([{ first: 102, count: 1000 }]);
  t.same(
    sent.slice(n).map((m) => m.seq),
    [102, 103],
  );
  t.equal(s.counters.nackIgnored, 0, 'the range started inside what was sent');
});

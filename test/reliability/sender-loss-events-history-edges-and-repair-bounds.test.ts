// What a FlowSender promises at its edges (issue 18: each case here was a surviving mutant):
// which NACK is a new loss event for the rate control (spec §7.9: one reaction per round
// trip, judged by the NACK's lowest number), what the byte-bounded history holds when it is
// exactly full or smaller than one datagram, how many batch records are kept, how many
// skipped repairs one pump run looks at, how big the repair queue may grow, and which lost
// numbers a replacement under way already covers.
import t from 'tap';
import { PUMP_SLICE, REPAIR_LOOKS, type SenderOptions } from '../../src/reliability/sender.js';
import { senderOver } from '../fixtures/sender.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const PAGE = 512; // one DATA a page at MTU 1200
const ENTRY = 40 + PAGE; // a DATA's cost against History Bytes; a COMMIT costs 40

function make(pages: number, extra: Partial<SenderOptions> = {}) {
  const clock = new FakeClock();
  const out: (DataMessage | CommitMessage)[] = [];
  const s = senderOver(Buffer.alloc(pages * PAGE, 9), PAGE, { firstSeq: 1, clock, flowControl: false, emit: (m) => out.push(m), ...extra });
  return { clock, out, s };
}

const commits = (out: readonly (DataMessage | CommitMessage)[]) => out.filter((m): m is CommitMessage => m.type === 'commit');

t.test('a NACK naming only numbers never sent is no loss: the rate stays', async (t) => {
  const { s } = make(4, { flowControl: {} });
  s.sendBatch([0, 1]); // 1, 2, COMMIT 3
  const rate = s.flowControl!.rate;
  s.onNack([
    { first: 10, count: 5 },
    { first: 4, count: 1 },
  ]);
  t.equal(s.counters.nackIgnored, 2, 'both ranges ignored');
  t.same(s.flowControl, { rate, phase: 'slow-start', lossEvents: 0, appLimited: false }, 'no loss event, no change of phase');
});

t.test('a NACK is a new loss event only when its lowest number was sent after the last decrease', async (t) => {
  const { clock, s } = make(8, { flowControl: {} });
  s.sendBatch([0, 1]); // 1, 2, COMMIT 3
  clock.advance(100);
  s.onNack([{ first: 2, count: 1 }]);
  t.equal(s.flowControl!.lossEvents, 1, 'the first loss halves the rate');
  const halved = s.flowControl!.rate;
  clock.advance(100);
  s.sendBatch([2, 3]); // 4, 5, COMMIT 6: sent after the decrease
  clock.advance(100);
  s.onNack([
    { first: 1, count: 1 },
    { first: 5, count: 1 },
  ]);
  t.equal(s.flowControl!.lossEvents, 1, 'lowest 1, sent before the decrease: the same event, though 5 was sent after it');
  t.ok(s.flowControl!.rate >= halved, `no second halving (${s.flowControl!.rate} against ${halved})`);
  s.onNack([{ first: 5, count: 1 }]);
  t.equal(s.flowControl!.lossEvents, 2, 'lowest 5, sent after the decrease: a new event');
});

t.test('a history exactly full keeps every datagram; one byte less drops the oldest', async (t) => {
  for (const [limit, firstHeld] of [
    [3 * ENTRY + 40, true],
    [3 * ENTRY + 39, false],
  ] as const) {
    const { out, s } = make(4, { historyBytes: limit });
    s.sendBatch([0, 1, 2]); // 1, 2, 3, COMMIT 4: 3 * ENTRY + 40 bytes
    t.equal(s.historyBytes, firstHeld ? 3 * ENTRY + 40 : 2 * ENTRY + 40);
    const before = out.length;
    s.onNack([{ first: 1, count: 1 }]);
    const answer = out.slice(before);
    if (firstHeld) t.same(answer, [out[0]], `limit ${limit}: 1 is retransmitted as it was`);
    else t.match(commits(answer), [{ replaces: true }], `limit ${limit}: 1 fell out, a replacement answers it`);
  }
});

t.test('a history smaller than one datagram still holds the newest', async (t) => {
  const { out, s } = make(4, { historyBytes: 1 });
  s.sendBatch([0, 1]); // 1, 2, COMMIT 3
  t.equal(s.historyBytes, 40, 'the COMMIT alone');
  const before = out.length;
  s.onNack([{ first: 3, count: 1 }]);
  t.same(out.slice(before), [out[2]], 'the newest is retransmitted');
  t.equal(s.counters.nackedTooOld, 0);
});

t.test('batchLimit records are kept: a number of the oldest kept batch is replaced from there', async (t) => {
  const { out, s } = make(8, { historyBytes: 1, batchLimit: 2 });
  s.sendBatch([0]); // 1, COMMIT 2 (its record dropped by the third batch)
  s.sendBatch([1]); // 3, COMMIT 4
  s.sendBatch([2]); // 5, COMMIT 6
  const before = out.length;
  s.onNack([{ first: 3, count: 1 }]);
  t.match(commits(out.slice(before)), [{ replaces: true, full: false, pageCount: 2 }], 'batches 2 and 3, not a full batch');
});

t.test(`skipped repairs are bounded too: one pump run looks at ${REPAIR_LOOKS} queued numbers at most`, async (t) => {
  const n = REPAIR_LOOKS + 500;
  const { clock, out, s } = make(n);
  s.sendBatch(Array.from({ length: n }, (_, i) => i));
  for (let i = 0; i < 100 && s.sending; i++) clock.advance(1);
  s.onNack([{ first: 1, count: n }]);
  for (let i = 0; i < 100 && s.repairsQueued > 0; i++) clock.advance(0);
  t.equal(s.counters.retransmits, n, 'a first NACK of all: each retransmitted');
  const sent = out.length;
  // Just retransmitted: every number is within the repair hold-off, so each look skips it.
  s.onNack([{ first: 1, count: n }]);
  t.equal(s.repairsQueued, n - REPAIR_LOOKS, 'the NACK’s own run looked at REPAIR_LOOKS numbers and yielded');
  t.equal(out.length, sent, 'and sent nothing: all were within the hold-off');
  clock.advance(0);
  t.equal(s.repairsQueued, 0, 'the next turn looked at the rest');
  t.equal(out.length, sent);
});

t.test('the repair queue holds 4x the history, at least 65,536 numbers', async (t) => {
  // Paced to no tokens (a burst of 1, spent), so repairs stay queued while NACKs come.
  const small = make(10, { flowControl: { burst: 1, initialRate: 1, minRate: 1 } });
  small.s.sendBatch(Array.from({ length: 10 }, (_, i) => i));
  for (let i = 0; i < 30; i++) small.clock.advance(1000); // 11 datagrams at 1 a second
  t.notOk(small.s.sending);
  small.clock.advance(100); // past the hold-off
  for (let i = 0; i < 7; i++) small.s.onNack([{ first: 1, count: 11 }]);
  t.equal(small.s.counters.nackShed, 0, '77 numbers for an 11-entry history: within the floor of 65,536');

  const pages = 20_000;
  const big = make(pages, { historyBytes: 64 * 1024 * 1024, flowControl: { burst: 64, initialRate: 50_000, maxRate: 50_000 } });
  big.s.sendBatch(Array.from({ length: pages }, (_, i) => i));
  for (let i = 0; i < 2000 && big.s.sending; i++) big.clock.advance(1);
  t.notOk(big.s.sending, 'the batch left');
  big.clock.advance(100);
  // Each NACK names all 20,001: the first run sends a burst; the rest queue.
  for (let i = 0; i < 4; i++) big.s.onNack([{ first: 1, count: pages + 1 }]);
  t.equal(big.s.counters.nackShed, 0, 'four times the history (80,004) fits');
  big.s.onNack([{ first: 1, count: pages + 1 }]);
  t.ok(big.s.counters.nackShed > 0 && big.s.counters.nackShed <= pages + 1, `a fifth is shed (${big.s.counters.nackShed})`);
  t.ok(big.s.repairsQueued <= 4 * (pages + 1), `the queue stays within 4x the history (${big.s.repairsQueued})`);
});

t.test('a replacement under way does not cover its own numbers: one of them lost draws another', async (t) => {
  const pages = 20;
  const { clock, out, s } = make(pages, { historyBytes: 2 * ENTRY, flowControl: { burst: 4, initialRate: 1000 } });
  s.sendBatch(Array.from({ length: pages }, (_, i) => i)); // 1..20, COMMIT 21
  for (let i = 0; i < 200 && s.sending; i++) clock.advance(5);
  s.onNack([{ first: 1, count: 1 }]); // lost: a replacement of batch 1 (batch 2), paced
  const first = out.find((m) => m.type === 'data' && m.batchId === 2)!;
  for (let i = 0; i < 3; i++) clock.advance(5); // a few more of it leave, pushing its first DATA out
  t.equal(commits(out).length, 1, 'the replacement is still under way');
  s.onNack([{ first: first.seq, count: 1 }]);
  t.equal(s.counters.nackedTooOld, 2, 'counted as lost');
  for (let i = 0; i < 400 && s.sending; i++) clock.advance(5);
  t.same(
    commits(out)
      .filter((c) => c.replaces)
      .map((c) => c.batchId),
    [2, 3],
    'a second replacement, for the first one’s lost DATA',
  );
});

t.test('a full RESYNC with no full batch waiting sends one', async (t) => {
  const { out, s } = make(4);
  t.equal(s.onResync(0, 0, true), true);
  t.match(commits(out), [{ full: true, pageCount: 4 }]);
  t.equal(s.counters.resyncsCoalesced, 0);
});

t.test('a repair that draws a replacement inside a pump run does not start a second run: one run, one slice', async (t) => {
  const pages = 600;
  const { clock, out, s } = make(pages);
  s.sendBatch(Array.from({ length: pages }, (_, i) => i)); // whole-page DATA at MTU 1200
  for (let i = 0; i < 100 && s.sending; i++) clock.advance(1);
  s.setMtu(240); // a small-MTU session joined (200 bytes of page a DATA): every held DATA is oversized for it
  const before = out.length;
  // The repairs are looked at in the run: the first one found oversized queues a replacement
  // (of every page, cut at 200 bytes) from inside that run.
  s.onNack(
    [{ first: 1, count: 300 }],
    () => t.fail('nothing is retransmitted'),
    () => 200,
  );
  t.equal(s.counters.nackedOversized, 1);
  t.equal(out.length - before, PUMP_SLICE, `the NACK's own turn made PUMP_SLICE (${PUMP_SLICE}) datagrams of the replacement`);
});

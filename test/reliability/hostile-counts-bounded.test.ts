import t from 'tap';
import { senderOver } from '../fixtures/sender.js';
import { FlowReceiver } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage, SeqRange } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// issue 19.5: every count from the wire is checked against what the flow holds before any
// loop. Before, one NACK spanning 2^31 numbers froze the master 42 s and a HEARTBEAT with
// Highest Seq = next + 2^30 froze it 35 s. Each case here must finish in a bounded number
// of steps; a timing assertion would be flaky, so the work is counted instead.

const PAGES = 64;
const PAGE = 1024;

function sender(firstSeq = 1000) {
  const clock = new FakeClock();
  const sent: (DataMessage | CommitMessage)[] = [];
  const snapshot = Buffer.alloc(PAGES * PAGE, 1);
  const s = senderOver(snapshot, PAGE, {
    firstSeq,
    clock,
    emit: (m) => sent.push(m),
    flowControl: false,
  });
  return { s, sent, clock };
}

t.test('a NACK whose range spans 2^31 numbers costs at most the history and retransmits only what was sent', async (t) => {
  const { s, sent, clock } = sender();
  s.sendBatch([0, 1, 2, 3]);
  clock.advance(10);
  const before = sent.length;
  t.equal(before, 5);
  const started = performance.now();
  s.onNack([
    { first: 1000, count: 0x7fff_ffff },
    { first: 0x8000_0000, count: 0x7fff_ffff },
  ]);
  clock.advance(10);
  const ms = performance.now() - started;
  t.equal(sent.length - before, 5, 'the five datagrams of the session, once');
  t.equal(s.counters.nackedTooOld, 0, 'nothing lost: no replacement batch');
  t.comment(`answered in ${ms.toFixed(2)} ms`);
});

t.test("NACK ranges wholly before the session's first sequence or after the last sent are ignored (spec §7.6)", async (t) => {
  const { s, sent, clock } = sender(1000);
  s.sendBatch([0]);
  clock.advance(10);
  const before = sent.length;
  s.onNack([{ first: 10, count: 990 }]);
  s.onNack([{ first: 5000, count: 100 }]);
  clock.advance(10);
  t.equal(sent.length, before, 'nothing sent');
  t.equal(s.counters.nackIgnored, 2);
  t.equal(s.counters.nackedTooOld, 0, 'no replacement batch for numbers this session never sent');
});

t.test('a NACK for numbers of this session that left the history draws one replacement batch, however many ranges', async (t) => {
  const clock = new FakeClock();
  const sent: (DataMessage | CommitMessage)[] = [];
  const snapshot = Buffer.alloc(PAGES * PAGE, 1);
  const s = senderOver(snapshot, PAGE, {
    clock,
    emit: (m) => sent.push(m),
    flowControl: { initialRate: 1000, maxRate: 1000, burst: 1 },
    historyBytes: 4 * (PAGE + 40),
  });
  for (let p = 0; p < 8; p++) s.sendBatch([p]);
  clock.advance(100);
  t.equal(sent.length, 16, 'all sent');
  const ranges: SeqRange[] = Array.from({ length: 64 }, (_, i) => ({ first: 1 + i, count: 0x7fff_ffff }));
  s.onNack(ranges);
  s.onNack(ranges); // the replacement is still queued: covered by it (spec §7.7)
  clock.advance(100);
  t.equal(s.counters.nackedTooOld, 1, 'one replacement');
  const last = sent.at(-1)!;
  t.equal(last.type, 'commit');
  t.equal(last.type === 'commit' && last.replaces, true, 'it REPLACES');
});

t.test('a RESYNC of pages 60..69 of 64 is dropped whole, not answered for 60..63 (spec §6.4)', async (t) => {
  const { s, sent, clock } = sender();
  t.equal(s.onResync(60, 10, false), false, 'refused');
  t.equal(s.onResync(0, 0, false), false, 'a count of 0 without FULL is refused');
  t.equal(s.onResync(0xffff_fff0, 0x20, false), false, 'a range that wraps u32 is refused');
  clock.advance(10);
  t.equal(sent.length, 0, 'nothing sent');
  t.equal(s.counters.resyncsRefused, 3);
  t.equal(s.onResync(60, 4, false), true, 'pages 60..63 are a valid RESYNC');
});

t.test('repeated RESYNC FULL while a full batch is still queued costs one full batch', async (t) => {
  const clock = new FakeClock();
  const sent: (DataMessage | CommitMessage)[] = [];
  const snapshot = Buffer.alloc(PAGES * PAGE, 1);
  const s = senderOver(snapshot, PAGE, {
    clock,
    emit: (m) => sent.push(m),
    flowControl: { initialRate: 1000, burst: 1 },
  });
  s.sendBatch([0]); // occupies the pacer so the full batches queue behind it
  for (let i = 0; i < 100; i++) s.onResync(0, 0, true);
  t.equal(s.counters.fullBatches, 1, 'one full batch queued');
  t.equal(s.counters.resyncsCoalesced, 99);
  s.close();
});

function receiver(firstSeq = 100) {
  const clock = new FakeClock();
  const nacks: SeqRange[][] = [];
  const resyncs: [number, number, boolean][] = [];
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq,
    clock,
    geometry: { pageSize: PAGE, wordSize: 8, pageCount: PAGES },
    apply: () => undefined,
    sendNack: (ranges) => nacks.push(ranges),
    requestResync: (a, b, c) => resyncs.push([a, b, c]),
  });
  return { r, nacks, resyncs, clock };
}

t.test('a HEARTBEAT whose Highest Seq is next + 2^30 - 1 is clipped to the window and the NACK scan stays bounded', async (t) => {
  const { r, nacks, clock } = receiver(100);
  const started = performance.now();
  r.onHighestSeq(100 + 0x3fff_ffff);
  t.equal(r.counters.highestClipped, 1, 'clipped');
  t.equal(r.highestSeen, 100 + r.window - 1, 'highest known is the end of the window');
  clock.advance(20);
  t.equal(nacks.length, 1, 'one NACK');
  t.same(nacks[0], [{ first: 100, count: r.window }], 'for what the receiver could hold');
  t.comment(`took ${(performance.now() - started).toFixed(2)} ms`);
  r.close();
});

t.test('a HEARTBEAT beyond the serial window is ignored', async (t) => {
  const { r, nacks, clock } = receiver(100);
  r.onHighestSeq(100 + 0x8000_0000);
  clock.advance(20);
  t.equal(nacks.length, 0);
  t.equal(r.missing, 0);
});

t.test('a DIGEST of pages 63..64 of 64 is dropped whole and draws no RESYNC (spec §6.3)', async (t) => {
  const { r, resyncs } = receiver(100);
  const differ = r.onDigest(0, 63, BigUint64Array.from([1n, 2n]), () => 0n);
  t.same(differ, []);
  t.same(resyncs, [], 'no RESYNC, not even of page 63');
  t.equal(r.counters.digestsRefused, 1);
  t.same(
    r.onDigest(0, 63, BigUint64Array.from([1n]), () => 0n),
    [63],
    'page 63 alone is a valid digest',
  );
});

// spec §5.4, §6.1, §6.4, §12: the flow sender numbers DATA and COMMIT in sequence, splits pages
// to fit the MTU, keeps a history bounded in bytes, retransmits what a NACK names once per
// hold-off, and replaces what fell out of its history with current contents.
import t from 'tap';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FlowSender, type SenderOptions } from '../../src/reliability/sender.js';
import { FakeClock } from '../fixtures/fake-clock.js';

type Sent = DataMessage | CommitMessage;

function sender(o: Partial<SenderOptions> & { pages?: number } = {}) {
  const pages = o.pages ?? 4;
  const memory = Buffer.alloc(pages * 1024);
  for (let p = 0; p < pages; p++) memory.writeBigUInt64LE(BigInt(p + 1) << 8n, p * 1024); // page p starts with (p+1)*256
  const sent: Sent[] = [];
  const clock = new FakeClock();
  const s = new FlowSender({
    flow: 'mo', src: 0xffff, dst: 3, epoch: 5, firstSeq: 100, pageSize: 1024, wordSize: 8, mtu: 1200, sealed: false,
    source: { pageCount: pages, page: (i) => memory.subarray(i * 1024, (i + 1) * 1024) }, clock,
    emit: (m) => sent.push(m), ...o,
  });
  return { s, sent, clock, memory };
}

const seqs = (xs: Sent[]): number[] => xs.map((m) => m.seq);

t.test('a batch is its DATA in page order then a COMMIT that counts them', async (t) => {
  const { s, sent } = sender();
  t.equal(s.highestSeq, 99, 'before anything is sent the highest is firstSeq - 1');
  t.equal(s.lastBatchId, 0);
  s.sendBatch([2, 0]);
  t.same(seqs(sent), [100, 101, 102]);
  t.match(sent[0], { type: 'data', src: 0xffff, dst: 3, epoch: 5, flow: 'mo', batchId: 1, page: 2, offset: 0 });
  t.match(sent[1], { type: 'data', batchId: 1, page: 0, offset: 0 });
  t.same([...(sent[0] as DataMessage).payload.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 3, 0], 'the payload is the page in big-endian words');
  t.equal((sent[0] as DataMessage).payload.byteLength, 1024);
  t.match(sent[2], { type: 'commit', seq: 102, batchId: 1, dataCount: 2, pageCount: 2, replaces: false, full: false });
  t.equal(s.highestSeq, 102);
  t.equal(s.lastBatchId, 1);
  t.match(s.counters, { batches: 1, datagrams: 3, bytes: 2048, fullBatches: 0, replaces: 0 });
  s.sendBatch([]);
  t.equal(sent.length, 3, 'an empty batch sends nothing');
  s.sendBatch([1]);
  t.match(sent.at(-1), { type: 'commit', batchId: 2, seq: 104, dataCount: 1 });
});

t.test('a page larger than the MTU allows travels as several DATA of whole words', async (t) => {
  const { s, sent } = sender({ mtu: 576 }); // 536 bytes of payload each
  s.sendBatch([1]);
  t.same(sent.map((m) => m.type === 'data' ? [m.offset, m.payload.byteLength] : m.dataCount), [[0, 536], [536, 488], 2]);
  t.throws(() => sender({ mtu: 60, sealed: true }), { message: 'MTU 60 leaves no room for a word of page data' });
});

t.test('sequence numbers wrap from 2**32 - 1 to 0', async (t) => {
  const { s, sent } = sender({ firstSeq: 0xffff_ffff });
  t.equal(s.highestSeq, 0xffff_fffe);
  s.sendBatch([0, 1]);
  t.same(seqs(sent), [0xffff_ffff, 0, 1]);
  t.equal(s.highestSeq, 1);
});

t.test('sendFull sends every page as one FULL REPLACES batch', async (t) => {
  const { s, sent } = sender();
  s.sendFull();
  t.same(sent.filter((m) => m.type === 'data').map((m) => (m as DataMessage).page), [0, 1, 2, 3]);
  t.match(sent.at(-1), { type: 'commit', full: true, replaces: true, pageCount: 4, dataCount: 4 });
  t.match(s.counters, { fullBatches: 1, replaces: 1 });
});

t.test('a NACK is answered from history, once per hold-off, and only for sequence numbers that were sent', async (t) => {
  const { s, sent, clock } = sender();
  s.sendBatch([0, 1]); // 100, 101, commit 102
  const repaired: Sent[] = [];
  s.onNack([{ first: 101, count: 5 }], (m) => repaired.push(m));
  t.same(seqs(repaired), [101, 102], 'the two it has; 103.. were never sent');
  t.equal(repaired[0], sent[1], 'the very datagram from history');
  t.match(s.counters, { nacksReceived: 1, retransmits: 2, nackedTooOld: 0 });
  clock.advance(19);
  s.onNack([{ first: 101, count: 1 }], (m) => repaired.push(m));
  t.equal(repaired.length, 2, 'within the 20 ms hold-off nothing is sent again');
  clock.advance(1);
  s.onNack([{ first: 101, count: 1 }]);
  t.same(seqs(sent.slice(3)), [101], 'at 20 ms it is, by default on the stream itself');
  t.equal(s.counters.retransmits, 3);
  s.onNack([{ first: 100, count: 2 }, { first: 102, count: 1 }]);
  t.same(seqs(sent.slice(4)), [100, 102], 'each range is answered; 101, just resent, is held off');
});

t.test('the history holds History Bytes of datagrams, each costing its payload plus 40', async (t) => {
  const oneBatch = 2 * (40 + 1024) + 40; // two DATA and a COMMIT
  const kept = sender({ historyBytes: oneBatch });
  kept.s.sendBatch([0, 1]);
  kept.s.onNack([{ first: 100, count: 1 }]);
  t.equal(kept.s.counters.retransmits, 1, 'exactly the budget keeps the oldest');
  const cut = sender({ historyBytes: oneBatch - 1 });
  cut.s.sendBatch([0, 1]);
  cut.s.onNack([{ first: 101, count: 2 }]);
  t.equal(cut.s.counters.retransmits, 2, 'one byte less drops only the oldest');
  const tiny = sender({ historyBytes: 1 });
  tiny.s.sendBatch([0, 1]);
  tiny.s.onNack([{ first: 102, count: 1 }]);
  t.equal(tiny.s.counters.retransmits, 1, 'the newest datagram is always kept');
});

t.test('a NACK for what fell out of the history is answered with current contents as a REPLACES batch', async (t) => {
  // 2200 bytes: what follows 102 fits, 102 itself does not, and so does the replacement.
  const { s, sent, memory } = sender({ historyBytes: 2200 });
  s.sendBatch([0]); // 100, 101
  s.sendBatch([2]); // 102, 103
  s.sendBatch([3]); // 104, 105
  memory.writeBigUInt64LE(0x77n, 2 * 1024 + 8); // page 2 changed since
  const before = sent.length;
  s.onNack([{ first: 102, count: 1 }]);
  const replacement = sent.slice(before);
  t.same(replacement.map((m) => m.type === 'data' ? m.page : 'commit'), [2, 3, 'commit'], 'pages of that batch and every later one');
  t.match(replacement.at(-1), { replaces: true, full: false, batchId: 4 });
  t.same([...(replacement[0] as DataMessage).payload.subarray(8, 16)], [0, 0, 0, 0, 0, 0, 0, 0x77], 'with the page as it is now');
  t.match(s.counters, { nackedTooOld: 1, replaces: 1, retransmits: 0 });
  const after = sent.length;
  s.onNack([{ first: 100, count: 3 }]);
  t.equal(sent.length, after, 'while the replacement is in history, NACKs for what it covers are ignored');
  t.equal(s.counters.nackedTooOld, 1);
});

t.test('when even the batch list is gone, every page is sent', async (t) => {
  const { s, sent } = sender({ historyBytes: 1, batchLimit: 1 });
  s.sendBatch([1]);
  s.sendBatch([2]);
  const before = sent.length;
  s.onNack([{ first: 100, count: 1 }]);
  t.match(sent.at(-1), { type: 'commit', full: true, replaces: true, pageCount: 4 });
  t.equal(sent.length - before, 5);
});

t.test('RESYNC sends the pages asked for, clipped to the segment, or all of them', async (t) => {
  const { s, sent } = sender();
  s.onResync(1, 2, false);
  t.same(sent.filter((m) => m.type === 'data').map((m) => (m as DataMessage).page), [1, 2]);
  t.match(sent.at(-1), { full: false, replaces: false });
  s.onResync(3, 9, false);
  t.same(sent.slice(3).filter((m) => m.type === 'data').map((m) => (m as DataMessage).page), [3], 'clipped at the last page');
  s.onResync(0, 0, true);
  t.match(sent.at(-1), { full: true, replaces: true, pageCount: 4 });
});

// spec §5.3, §8.1: a shared stream (BC) is cut for the smallest session MTU. setMtu() changes
// the cut of every DATA made after it, even inside a batch or a page, with an exact Data
// Count; a receiver applies such a batch whole. A held DATA cut larger than a repair's
// destination takes is never retransmitted there: a replacement batch at the new cut answers it.
import t from 'tap';
import { senderOver } from '../fixtures/sender.js';
import { FlowReceiver, type ReceivedBatch } from '../../src/reliability/receiver.js';
import { fromWire } from '../../src/segments/word-codec.js';
import { maxDataPayload, type CommitMessage, type DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const PAGE = 1024;
const PAGES = 8;
const SMALL = maxDataPayload(576, 8, false); // 536
const LARGE = Math.min(PAGE, maxDataPayload(1200, 8, false)); // a whole page

function setup(o: { burst?: number } = {}) {
  const clock = new FakeClock();
  const snapshot = Buffer.alloc(PAGE * PAGES);
  for (let i = 0; i < snapshot.length; i++) snapshot[i] = (i * 31 + 7) & 0xff;
  const out: (DataMessage | CommitMessage)[] = [];
  const sender = senderOver(snapshot, PAGE, {
    flow: 'bc',
    dst: 0xfffe,
    firstSeq: 0xffff_fff0, // across the wrap
    clock,
    emit: (m) => out.push(m),
    flowControl: o.burst === undefined ? false : { burst: o.burst, initialRate: 1000 },
  });
  return { clock, snapshot, out, sender };
}

const data = (ms: (DataMessage | CommitMessage)[]) => ms.filter((m): m is DataMessage => m.type === 'data');
const commits = (ms: (DataMessage | CommitMessage)[]) => ms.filter((m): m is CommitMessage => m.type === 'commit');

t.test('between batches: the next batch is cut for the new MTU, and back again', async (t) => {
  const { out, sender } = setup();
  sender.sendBatch([0, 1]);
  sender.setMtu(576);
  t.equal(sender.chunk, SMALL);
  sender.sendBatch([2, 3]);
  sender.setMtu(1200);
  sender.sendBatch([4]);
  const [c1, c2, c3] = commits(out);
  t.same([c1!.dataCount, c2!.dataCount, c3!.dataCount], [2, 4, 1], 'Data Count: one DATA a page at 1200, two at 576, one again at 1200');
  t.ok(
    data(out)
      .filter((d) => d.batchId === c2!.batchId)
      .every((d) => d.payload.byteLength <= SMALL),
    'every DATA of the 576 batch fits 576',
  );
});

t.test('inside a batch: DATA made after setMtu fit it, the COMMIT counts what was sent, and the batch applies whole', async (t) => {
  const { clock, snapshot, out, sender } = setup({ burst: 3 });
  sender.sendBatch([0, 1, 2, 3, 4, 5]);
  t.equal(out.length, 3, 'paced: three DATA left at the large cut');
  t.ok(
    out.every((m) => m.type === 'data' && m.payload.byteLength === LARGE),
    'whole pages',
  );
  sender.setMtu(576);
  const before = out.length;
  for (let i = 0; i < 200 && commits(out).length === 0; i++) clock.advance(5);
  const later = data(out.slice(before));
  t.ok(later.length > 0 && later.every((d) => d.payload.byteLength <= SMALL), 'every later DATA fits 576');
  const commit = commits(out)[0]!;
  t.equal(commit.dataCount, data(out).length, 'Data Count is the DATA sent');
  t.equal(commit.pageCount, 6);

  const applied: ReceivedBatch[] = [];
  const target = Buffer.alloc(snapshot.length);
  const receiver = new FlowReceiver({
    flow: 'bc',
    firstSeq: 0xffff_fff0,
    clock,
    geometry: { pageSize: PAGE, wordSize: 8, pageCount: PAGES },
    apply: (b) => {
      applied.push(b);
      for (const d of b.data) fromWire(d.payload, target.subarray(d.page * PAGE + d.offset, d.page * PAGE + d.offset + d.payload.byteLength), 8);
    },
    sendNack: () => {},
    requestResync: () => t.fail('no RESYNC: the batch is valid'),
  });
  for (const m of out) receiver.onDatagram(m);
  t.equal(applied.length, 1, 'the receiver applies the batch of two cuts');
  t.ok(target.subarray(0, 6 * PAGE).equals(snapshot.subarray(0, 6 * PAGE)), 'with the pages as sent');
});

t.test('a NACK for a held DATA too large for its destination draws a replacement at the new cut, once', async (t) => {
  const { out, sender } = setup();
  sender.sendBatch([0, 1]); // cut at 1200
  sender.sendBatch([2]);
  const old = data(out)[1]!; // page 1, a whole page
  sender.setMtu(576); // a small-MTU session joined
  const limit = () => SMALL;
  const repaired: (DataMessage | CommitMessage)[] = [];
  const before = out.length;
  sender.onNack([{ first: old.seq, count: 1 }], (m) => repaired.push(m), limit);
  t.same(repaired, [], 'not retransmitted');
  t.equal(sender.counters.nackedOversized, 1);
  t.equal(sender.counters.nackedTooOld, 0, 'it was held: not counted as lost');
  const replacement = out.slice(before);
  const c = commits(replacement)[0]!;
  t.ok(c.replaces, 'a REPLACES batch');
  t.same([...new Set(data(replacement).map((d) => d.page))], [0, 1, 2], 'of the NACKed batch and every later one');
  t.ok(
    data(replacement).every((d) => d.payload.byteLength <= SMALL),
    'cut for 576',
  );

  sender.onNack([{ first: old.seq, count: 1 }], (m) => repaired.push(m), limit);
  t.equal(commits(out).length, 3, 'a second NACK for it draws no second replacement: the first covers it');
  t.same(repaired, [], 'and no retransmission');

  const fits = data(replacement)[0]!;
  sender.onNack([{ first: fits.seq, count: 1 }], (m) => repaired.push(m), limit);
  t.same(
    repaired.map((m) => m.seq),
    [fits.seq],
    'a DATA that fits is retransmitted as usual',
  );
});

t.test('one NACK whose ranges name several oversized DATA counts and answers once', async (t) => {
  const { out, sender } = setup();
  sender.sendBatch([0, 1, 2, 3]); // cut at 1200: four whole-page DATA and a COMMIT
  const [d0, , d2] = data(out);
  sender.setMtu(576);
  const repaired: (DataMessage | CommitMessage)[] = [];
  const before = out.length;
  // Two disjoint ranges: two spans in the repair queue, both oversized for 576.
  sender.onNack(
    [
      { first: d0!.seq, count: 1 },
      { first: d2!.seq, count: 1 },
    ],
    (m) => repaired.push(m),
    () => SMALL,
  );
  t.same(repaired, [], 'neither retransmitted');
  t.equal(sender.counters.nackedOversized, 1, 'one NACK, one count');
  t.equal(commits(out.slice(before)).length, 1, 'one replacement batch answers both');
});

t.test('without a limit, or within it, a held DATA is retransmitted whatever its cut', async (t) => {
  const { out, sender } = setup();
  sender.sendBatch([0]);
  sender.setMtu(576);
  const repaired: (DataMessage | CommitMessage)[] = [];
  sender.onNack([{ first: out[0]!.seq, count: 1 }], (m) => repaired.push(m));
  sender.onNack(
    [{ first: out[0]!.seq + 1, count: 1 }],
    (m) => repaired.push(m),
    () => LARGE,
  );
  t.same(
    repaired.map((m) => m.type),
    ['data', 'commit'],
    'both retransmitted',
  );
  t.equal(sender.counters.nackedOversized, 0);
  t.equal(sender.counters.replaces, 0);
});

t.test('a queued repair whose destination shrank before it left is not sent', async (t) => {
  const { clock, out, sender } = setup({ burst: 1 });
  sender.sendBatch([0]);
  clock.advance(20); // DATA and COMMIT leave, paced
  t.equal(out.length, 2);
  let max = LARGE;
  const repaired: (DataMessage | CommitMessage)[] = [];
  clock.advance(20); // a token for the repair... spent below
  sender.sendBatch([1]); // takes the token first
  sender.onNack(
    [{ first: out[0]!.seq, count: 1 }],
    (m) => repaired.push(m),
    () => max,
  );
  max = SMALL; // a small-MTU session joined while the repair waited for a token
  for (let i = 0; i < 20; i++) clock.advance(5);
  t.same(repaired, [], 'the oversized repair never left');
});

// issue 12: when a repair fills the gap in front of a long held run, the receiver moves the
// run past its apply point DELIVER_SLICE datagrams per turn (the rest in later turns), and a
// NACK looks at most NACK_SCAN numbers from the apply point. Counted, not timed: what one
// call did is seen from what was applied and what was NACKed.
import t from 'tap';
import { DELIVER_SLICE, FlowReceiver, NACK_SCAN } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage, SeqRange } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const PAGE = 64;
const data = (seq: number, page: number): DataMessage => ({
  ...env,
  type: 'data',
  flow: 'mo',
  seq,
  batchId: 1,
  page,
  offset: 0,
  payload: Buffer.alloc(PAGE, 7),
});
const commit = (seq: number, dataCount: number): CommitMessage => ({
  ...env,
  type: 'commit',
  flow: 'mo',
  seq,
  batchId: 1,
  dataCount,
  pageCount: dataCount,
  replaces: false,
  full: true,
});

function receiver(pages: number) {
  const clock = new FakeClock();
  const applied: number[] = [];
  const nacks: SeqRange[][] = [];
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq: 1,
    clock,
    geometry: { pageSize: PAGE, wordSize: 8, pageCount: pages },
    apply: (b) => applied.push(b.data.length),
    sendNack: (ranges) => nacks.push(ranges.map((x) => ({ ...x }))),
    requestResync: () => undefined,
  });
  return { r, clock, applied, nacks };
}

t.test('a repair in front of a long held run: the batch is applied whole, after later turns', async (t) => {
  const pages = 3 * DELIVER_SLICE + 100;
  const { r, clock, applied } = receiver(pages);
  for (let p = 1; p < pages; p++) r.onDatagram(data(1 + p, p)); // seq 1 (page 0) lost
  r.onDatagram(commit(1 + pages, pages));
  t.equal(r.missing, 1);
  t.equal(r.onDatagram(data(1, 0)), 'ok', 'the repair is held');
  t.same(applied, [], 'not applied in the repair’s own turn: the walk stopped after DELIVER_SLICE');
  t.equal(r.pending, pages + 1, 'nothing lost meanwhile: all of it still held or assembled');
  t.equal(r.onDatagram(data(2, 1)), 'duplicate', 'a datagram the walk already passed is a duplicate');
  t.equal(r.onDatagram(data(pages, pages - 1)), 'duplicate', 'and one it did not reach yet too');
  for (let i = 0; i < 10 && applied.length === 0; i++) clock.advance(1);
  t.same(applied, [pages], 'then applied whole, every DATA of it');
  t.ok(r.idle, 'nothing held or missing');
  t.equal(r.expected, pages + 2);
});

t.test('a NACK names the gaps within NACK_SCAN numbers of the apply point; later ones in a later round', async (t) => {
  const pages = NACK_SCAN + 1000;
  const { r, clock, nacks } = receiver(pages);
  // seq 1 lost, 2 .. NACK_SCAN + 10 held, NACK_SCAN + 11 lost, the rest held.
  const far = NACK_SCAN + 11;
  for (let s = 2; s <= pages; s++) if (s !== far) r.onDatagram(data(s, s - 1));
  r.onDatagram(commit(pages + 1, pages));
  clock.advance(10);
  t.same(nacks, [[{ first: 1, count: 1 }]], 'the front gap only');
  r.onDatagram(data(1, 0));
  for (let i = 0; i < 200; i++) clock.advance(1);
  t.same(nacks.at(-1), [{ first: far, count: 1 }], 'once the front moved, the far gap');
});

t.test(`one turn walks exactly DELIVER_SLICE (${DELIVER_SLICE}) held datagrams`, async (t) => {
  // A batch of n DATA and its COMMIT is n + 1 datagrams: whole in the repair's own turn
  // when n + 1 <= DELIVER_SLICE, in a later one when it is one more.
  for (const [n, atOnce] of [
    [DELIVER_SLICE - 1, true],
    [DELIVER_SLICE, false],
  ] as const) {
    const { r, clock, applied } = receiver(n);
    for (let p = 1; p < n; p++) r.onDatagram(data(1 + p, p)); // seq 1 (page 0) lost
    r.onDatagram(commit(1 + n, n));
    r.onDatagram(data(1, 0));
    t.same(applied, atOnce ? [n] : [], `${n} DATA + COMMIT: ${atOnce ? 'applied in the repair’s turn' : 'not yet'}`);
    for (let i = 0; i < 10 && applied.length === 0; i++) clock.advance(1);
    t.same(applied, [n], `${n} DATA + COMMIT: applied`);
  }
});

t.test('the NACK_SCAN bound is exact: a gap at NACK_SCAN - 1 from the apply point is named, one at NACK_SCAN is not', async (t) => {
  for (const [far, named] of [
    [NACK_SCAN, true],
    [NACK_SCAN + 1, false],
  ] as const) {
    const pages = NACK_SCAN + 10;
    const { r, clock, nacks } = receiver(pages);
    for (let s = 2; s <= pages; s++) if (s !== far) r.onDatagram(data(s, s - 1)); // seq 1 (index 0) lost
    r.onDatagram(commit(pages + 1, pages));
    clock.advance(10);
    const want = named
      ? [
          { first: 1, count: 1 },
          { first: far, count: 1 },
        ]
      : [{ first: 1, count: 1 }];
    t.same(nacks, [want], `gap at index ${far - 1}: ${named ? 'named' : 'left to a later round'}`);
  }
});

t.test('a lost tail longer than NACK_SCAN after the last held datagram is NACKed whole, up to the highest seen', async (t) => {
  const { r, clock, nacks } = receiver(8);
  r.onDatagram(data(2, 1)); // 1 lost, 2 held
  const highest = NACK_SCAN + 100;
  r.onHighestSeq(highest);
  t.equal(r.missing, highest - 1);
  clock.advance(10);
  t.same(nacks, [
    [
      { first: 1, count: 1 },
      { first: 3, count: highest - 2 },
    ],
  ]);
});

// spec §5.3, §7.7, §8.1: a batch's record (its first sequence to its COMMIT) tells which batch
// a lost number belonged to, so a replacement carries that batch and every later one and no
// earlier one. setMtu() changes the cut of the DATA not yet made, of the batch under way and
// of those queued, and their records must follow: a record too short sends a replacement of
// every batch, one too long takes the next batch's numbers for its own. Found by mutation
// testing (issue 18): no test looked at a record after an MTU change, nor at `progress` in
// the middle of a page.
import t from 'tap';
import { senderOver } from '../fixtures/sender.js';
import { DATA_PAYLOAD } from '../../src/udp/constants.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const PAGE = 1024;
const PAGES = 8;

/**
 * Batches Z [0], A [1, 2], B [3, 4, 5], C [6], D [7] at MTU 576 (two DATA a page), paced by a
 * burst of 6: Z (2 DATA, COMMIT) and A's first 3 DATA leave, A stops in the middle of page 2.
 * Then the MTU grows to 1200 (one DATA a page) with B queued; the rest leaves at the new cut.
 * Sequence numbers: Z 1-3, A 4-8 (COMMIT 8), B 9-12 (COMMIT 12), C 13-14, D 15-16.
 */
function script(before = 576, after = 1200) {
  const clock = new FakeClock();
  const snapshot = Buffer.alloc(PAGE * PAGES);
  for (let i = 0; i < snapshot.length; i++) snapshot[i] = (i * 13 + 5) & 0xff;
  const out: (DataMessage | CommitMessage)[] = [];
  const s = senderOver(snapshot, PAGE, {
    firstSeq: 1,
    mtu: before,
    clock,
    emit: (m) => out.push(m),
    // Room for one datagram: every earlier number is lost, and a NACK of it draws a replacement.
    historyBytes: 1,
    flowControl: { burst: 6, initialRate: 1000 },
  });
  s.sendBatch([0]);
  s.sendBatch([1, 2]);
  s.sendBatch([3, 4, 5]);
  const early = out.length;
  s.setMtu(after);
  for (let i = 0; i < 200 && s.sending; i++) clock.advance(5);
  s.sendBatch([6]);
  s.sendBatch([7]);
  for (let i = 0; i < 200 && s.sending; i++) clock.advance(5);
  return { clock, out, s, early };
}

/** The pages of the replacement a NACK of `seq` draws (after the script). */
function replacementFor(seq: number, mtus: [number, number] = [576, 1200]): { pages: number[]; commit: CommitMessage | undefined } {
  const { clock, out, s } = script(...mtus);
  const before = out.length;
  s.onNack([{ first: seq, count: 1 }]);
  for (let i = 0; i < 400 && s.sending; i++) clock.advance(5);
  const fresh = out.slice(before);
  const pages = [...new Set(fresh.filter((m): m is DataMessage => m.type === 'data').map((d) => d.page))].sort((a, b) => a - b);
  return { pages, commit: fresh.find((m): m is CommitMessage => m.type === 'commit') };
}

t.test('the script: sequence numbers of each batch, across the MTU change', async (t) => {
  const { out, early } = script();
  t.equal(early, 6, 'Z and three DATA of A left before the change');
  t.same(
    out.filter((m) => m.type === 'commit').map((m) => m.seq),
    [3, 8, 12, 14, 16],
    'COMMITs of Z, A, B, C, D',
  );
  const a = out.filter((m): m is DataMessage => m.type === 'data' && m.seq >= 4 && m.seq <= 7);
  t.same(
    a.map((d) => [d.page, d.offset, d.payload.byteLength]),
    [
      [1, 0, 536],
      [1, 536, 488],
      [2, 0, 536],
      [2, 536, 488],
    ],
    'A: page 1 in two, page 2 in two (the second half cut at 1200 holds what is left)',
  );
});

t.test('a lost number of the batch under way at the change is that batch’s, up to its COMMIT', async (t) => {
  const { pages, commit } = replacementFor(8);
  t.same(pages, [1, 2, 3, 4, 5, 6, 7], "A's COMMIT: A and every later batch, not Z");
  t.match(commit, { replaces: true, full: false, pageCount: 7 });
});

t.test('the first number after that batch is the next one’s', async (t) => {
  t.same(replacementFor(9).pages, [3, 4, 5, 6, 7], "B's first DATA: B, C, D, not A");
});

t.test('a batch queued at the change is recorded at the new cut', async (t) => {
  t.same(replacementFor(12).pages, [3, 4, 5, 6, 7], "B's COMMIT: still B");
  t.same(replacementFor(13).pages, [6, 7], "C's first DATA: C and D only");
});

t.test('a batch cut at one MTU throughout is recorded as its DATA went (two a page)', async (t) => {
  t.same(replacementFor(3).pages, [0, 1, 2, 3, 4, 5, 6, 7], "Z's COMMIT: every batch");
  t.same(replacementFor(4).pages, [1, 2, 3, 4, 5, 6, 7], "A's first DATA: not Z");
});

t.test('the other way, 1200 to 576: the batch under way and the later ones get two DATA a page, and records to match', async (t) => {
  // Z 1-2, A 3-5, B's first DATA 6 at 1200; then B's pages 4 and 5 in two: B 6-11 (COMMIT 11),
  // C 12-14, D 15-17.
  const { out } = script(1200, 576);
  t.same(
    out.filter((m) => m.type === 'commit').map((m) => m.seq),
    [2, 5, 11, 14, 17],
    'COMMITs of Z, A, B, C, D',
  );
  t.same(replacementFor(11, [1200, 576]).pages, [3, 4, 5, 6, 7], "B's COMMIT: B and later");
  t.same(replacementFor(12, [1200, 576]).pages, [6, 7], "C's first DATA: C and D");
  t.same(replacementFor(13, [1200, 576]).pages, [6, 7], "C's second DATA: still C");
});

t.test('a replacement that covers every page is a FULL batch', async (t) => {
  t.match(replacementFor(2).commit, { replaces: true, full: true, pageCount: PAGES });
});

t.test('progress in the middle of a page: bytes of the pages done plus the part sent, the rate since the first DATA', async (t) => {
  const clock = new FakeClock();
  let hold = false;
  const s = senderOver(Buffer.alloc(3 * PAGE, 1), PAGE, {
    firstSeq: 1,
    mtu: 576,
    clock,
    emit: () => {},
    flowControl: { burst: 3, initialRate: 1000 },
    holdBatches: () => hold,
  });
  s.sendFull(); // three DATA leave: page 0 whole, page 1's first 536 bytes
  hold = true;
  clock.advance(2000);
  t.same(
    s.progress,
    { batchId: 1, full: true, bytesDone: PAGE + 536, bytesTotal: 3 * PAGE, rate: 780, etaS: 1.9 },
    '1560 of 3072 bytes in 2 s: 780 B/s, 1.9 s left',
  );
});

t.test('an MTU that leaves exactly one word for page data is taken; one byte less is refused by name', async (t) => {
  const clock = new FakeClock();
  const out: (DataMessage | CommitMessage)[] = [];
  const s = senderOver(Buffer.alloc(64, 3), 64, { mtu: DATA_PAYLOAD + 8, clock, emit: (m) => out.push(m), flowControl: false });
  t.equal(s.chunk, 8);
  s.sendFull();
  t.same(
    out.map((m) => (m.type === 'data' ? m.payload.byteLength : 'commit')),
    [8, 8, 8, 8, 8, 8, 8, 8, 'commit'],
    'a 64-byte page in eight DATA of one word',
  );
  t.throws(() => s.setMtu(DATA_PAYLOAD + 7), new RangeError(`MTU ${DATA_PAYLOAD + 7} leaves no room for a word of page data`));
  t.equal(s.chunk, 8, 'the refused MTU changed nothing');
});

// spec §7.2: each serial comparison answers for all three cases, before, equal and after,
// and seqMax keeps the later number whichever side it is passed on.
import t from 'tap';
import { seqAdd, seqDiff, seqGt, seqGte, seqInRange, seqLt, seqLte, seqMax } from '../../src/udp/serial.js';

/** [a, b, order of a against b] for pairs away from and across the wrap. */
const PAIRS: [number, number, -1 | 0 | 1][] = [
  [3, 5, -1],
  [5, 3, 1],
  [4, 4, 0],
  [0xfffffffe, 1, -1],
  [1, 0xfffffffe, 1],
  [0xffffffff, 0xffffffff, 0],
];

t.test('lt, lte, gt and gte each give the answer the order asks for', async (t) => {
  for (const [a, b, order] of PAIRS) {
    t.equal(seqLt(a, b), order < 0, `${a} < ${b}`);
    t.equal(seqLte(a, b), order <= 0, `${a} <= ${b}`);
    t.equal(seqGt(a, b), order > 0, `${a} > ${b}`);
    t.equal(seqGte(a, b), order >= 0, `${a} >= ${b}`);
  }
});

t.test('seqMax returns the later number in either argument position', async (t) => {
  for (const [a, b, order] of PAIRS) {
    const later = order >= 0 ? a : b;
    t.equal(seqMax(a, b), later, `max(${a}, ${b})`);
    t.equal(seqMax(b, a), later, `max(${b}, ${a})`);
  }
});

t.test('seqAdd and seqDiff give unsigned sums and signed distances', async (t) => {
  t.equal(seqAdd(10, 5), 15);
  t.equal(seqAdd(10, -5), 5);
  t.equal(seqAdd(0xffffffff, 1), 0, 'the sum wraps to 0, never reaches 2**32');
  t.equal(seqDiff(15, 10), 5);
  t.equal(seqDiff(10, 15), -5);
  t.equal(seqDiff(0, 0xffffffff), 1, 'the distance across the wrap is the short way round');
});

t.test('seqInRange includes the first number and excludes the one after the last', async (t) => {
  t.ok(seqInRange(100, 100, 1), 'first');
  t.notOk(seqInRange(101, 100, 1), 'one past the only number');
  t.notOk(seqInRange(99, 100, 10), 'one before');
  t.ok(seqInRange(109, 100, 10), 'last');
  t.notOk(seqInRange(110, 100, 10), 'one past the last');
  t.notOk(seqInRange(100, 100, 0), 'an empty range holds nothing');
});

// spec §7.2: sequence numbers compare with RFC 1982 serial arithmetic across the wrap at 2**32.
import t from 'tap';
import { seqAdd, seqDiff, seqGt, seqGte, seqInRange, seqLt, seqLte, seqMax } from '../../src/udp/serial.js';

const NEAR = 2 ** 32 - 3;

t.test('sequence numbers just below 2**32 come before the small numbers after the wrap', async (t) => {
  t.equal(seqAdd(NEAR, 5), 2, 'adding wraps modulo 2**32');
  t.equal(seqAdd(2, -5), NEAR, 'subtracting wraps back');
  t.equal(seqDiff(2, NEAR), 5, 'distance across the wrap is small and positive');
  t.equal(seqDiff(NEAR, 2), -5);
  t.ok(seqLt(NEAR, 2) && seqLte(NEAR, 2) && seqGt(2, NEAR) && seqGte(2, NEAR));
  t.notOk(seqLt(2, NEAR));
  t.equal(seqMax(NEAR, 2), 2);
  t.equal(seqMax(0xffffffff, 0), 0);
  t.ok(seqLte(7, 7) && seqGte(7, 7) && !seqLt(7, 7));
});

t.test('a run of sequence numbers walked across 2**32 stays in order', async (t) => {
  let s = NEAR;
  for (let i = 0; i < 10; i++) {
    const next = seqAdd(s, 1);
    t.ok(seqLt(s, next), `${s} < ${next}`);
    s = next;
  }
  t.equal(s, 7);
});

t.test('ranges that cross the wrap contain exactly their numbers', async (t) => {
  t.ok(seqInRange(0xfffffffe, 0xfffffffe, 4));
  t.ok(seqInRange(1, 0xfffffffe, 4));
  t.notOk(seqInRange(2, 0xfffffffe, 4));
  t.notOk(seqInRange(0xfffffffd, 0xfffffffe, 4));
});

t.test('distances are signed within half the space', async (t) => {
  t.equal(seqDiff(0x7fffffff, 0), 0x7fffffff, 'largest forward distance');
  t.equal(seqDiff(0, 0x7fffffff), -0x7fffffff);
  t.equal(seqDiff(0x80000000, 0), -0x80000000, 'exactly half way is undefined in RFC 1982; reported as -2**31');
});

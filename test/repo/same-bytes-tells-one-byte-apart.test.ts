import { randomBytes } from 'node:crypto';
import t from 'tap';
import { sameBytes } from '../fixtures/cluster.js';

// The cluster tests' convergence check (fixtures/cluster.ts sameBytes) must see a single
// differing byte anywhere, or every "byte-identical" assertion built on it proves nothing.
t.test('sameBytes is true for equal bytes and false for one byte changed anywhere', async (t) => {
  const a = randomBytes(1 << 20);
  const b = Buffer.from(a);
  t.ok(sameBytes(a, b), 'equal copies');
  for (const at of [0, 1, 4095, 4096, a.length >> 1, a.length - 1]) {
    b[at] = b[at]! ^ 1;
    t.notOk(sameBytes(a, b), `byte ${at} flipped`);
    b[at] = a[at]!;
  }
  t.notOk(sameBytes(a, b.subarray(1)), 'a different length');
  t.ok(sameBytes(Buffer.alloc(0), Buffer.alloc(0)), 'two empty views');
});

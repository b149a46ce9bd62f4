import { randomFillSync } from 'node:crypto';
import t from 'tap';
import { PageScanner, SLICED_SCAN_BYTES, type SlicedScan } from '../../src/segments/scanner.js';

// issue 18: how a sliced scan divides its work. A step looks at the clock after each unit of
// at most 1 MiB hashed or copied (so a step overruns its budget by one unit at most), goes on
// until its budget is spent, restarts within the same step when the generation moved, and
// writes the snapshot only while `committing` says so. performance.now() is replaced by a
// clock that moves one tick per read, so step(budget) does exactly budget - 1 units: the
// counts below are counts of work, not of time.

const PAGE = 1024;
const SIZE = 2 * SLICED_SCAN_BYTES; // 8 MiB: 8192 pages, 8 units of 1 MiB
const UNITS_PER_PASS = SIZE / (1024 * 1024);

/** Run fn with a performance.now() that moves one tick per read. */
function ticking<T>(fn: () => T): T {
  const real = performance.now;
  let tick = 0;
  performance.now = () => ++tick;
  try {
    return fn();
  } finally {
    performance.now = real;
  }
}

/** Step with `budget` ticks until a result; the steps taken and what `committing` said after each. */
function drive(job: SlicedScan, budget: number) {
  const committing: boolean[] = [];
  for (let steps = 1; steps <= 100_000; steps++) {
    const r = ticking(() => job.step(budget));
    committing.push(job.committing);
    if (r !== undefined) return { r, steps, committing };
  }
  throw new Error('sliced scan never ended');
}

t.test('one unit of work per step with a budget of 2 ticks: 1 MiB hashed, copied or committed per unit', async (t) => {
  const live = randomFillSync(Buffer.alloc(SIZE)); // not zeros: a page left uncopied would show
  const s = new PageScanner(live, PAGE);
  const first = drive(s.sliced(), 2);
  t.equal(first.r !== 'busy' && first.r.dirty.length, SIZE / PAGE, 'every page, the first time');
  // start, 8 hash units, 8 copy units (8192 dirty pages), 8 commit units (the last returns).
  t.equal(first.steps, 1 + 3 * UNITS_PER_PASS);
  t.ok(s.snapshot.equals(live), 'the snapshot holds the live region');
  for (const at of [0, 5 * PAGE + 7, SIZE - 1]) live[at]! ^= 0xff;
  const second = drive(s.sliced(), 2);
  t.same(second.r !== 'busy' && second.r.dirty, [0, 5, SIZE / PAGE - 1]);
  t.equal(second.steps, 1 + UNITS_PER_PASS + 1 + 1, 'three dirty pages: one copy unit, one commit unit');
  t.ok(s.snapshot.equals(live));
});

t.test('a step goes on until its budget is spent', async (t) => {
  const live = Buffer.alloc(SIZE);
  const s = new PageScanner(live, PAGE);
  // 25 units (as above) at 4 units per step (5 ticks: one read for the deadline).
  t.equal(drive(s.sliced(), 5).steps, Math.ceil((1 + 3 * UNITS_PER_PASS) / 4));
  t.equal(drive(s.sliced(), 1000).steps, 1, 'the whole scan fits one big budget');
});

t.test('larger pages: still 1 MiB per unit; a page above 1 MiB is one unit', async (t) => {
  const s4 = new PageScanner(Buffer.alloc(SIZE), 4096);
  t.equal(drive(s4.sliced(), 2).steps, 1 + 3 * UNITS_PER_PASS, '4 KiB pages, 256 per unit');
  const s2m = new PageScanner(Buffer.alloc(SIZE), 2 * 1024 * 1024);
  const r = drive(s2m.sliced(), 2);
  t.equal(r.steps, 1 + 3 * 4, '2 MiB pages, one per unit');
  t.same(r.r !== 'busy' && r.r.dirty, [0, 1, 2, 3]);
});

t.test('the snapshot is written only while committing is true', async (t) => {
  const live = randomFillSync(Buffer.alloc(SIZE));
  const s = new PageScanner(live, PAGE);
  const job = s.sliced(() => 0n);
  t.equal(job.committing, false, 'not before the first step');
  const zero = Buffer.alloc(SIZE);
  let steps = 0;
  let r;
  for (; r === undefined && steps < 100; steps++) {
    r = ticking(() => job.step(2));
    if (r !== undefined) break;
    const expect = steps + 1 >= 1 + 2 * UNITS_PER_PASS; // after start, hash and copy
    t.equal(job.committing, expect, `after step ${steps + 1}`);
    if (!job.committing) t.ok(s.snapshot.equals(zero), `snapshot untouched after step ${steps + 1}`);
  }
  t.equal(steps + 1, 1 + 3 * UNITS_PER_PASS);
  t.ok(r !== 'busy' && s.snapshot.equals(live));
});

t.test('forceFull makes a sliced scan report every page even when none changed', async (t) => {
  const live = Buffer.alloc(8 * 64);
  const s = new PageScanner(live, 64);
  drive(s.sliced(), 1000);
  t.same(drive(s.sliced(), 1000).r, { dirty: [], snapshot: s.snapshot });
  s.forceFull();
  const r = drive(s.sliced(), 1000).r;
  t.same(r !== 'busy' && r.dirty, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.same(drive(s.sliced(), 1000).r, { dirty: [], snapshot: s.snapshot }, 'once');
});

t.test('a change that moves only one 32-bit half of the page hash is dirty in a sliced scan too', async (t) => {
  // XXH3-64 (seed 0) of a 64-byte page holding this u32: 760 and 64176 share the low half, 17319 and 26919 the high.
  const live = Buffer.alloc(2 * 64);
  live.writeUInt32LE(760, 0);
  live.writeUInt32LE(17319, 64);
  const s = new PageScanner(live, 64);
  drive(s.sliced(), 1000);
  live.writeUInt32LE(64176, 0);
  live.writeUInt32LE(26919, 64);
  const r = drive(s.sliced(), 1000).r;
  t.same(r !== 'busy' && r.dirty, [0, 1]);
});

t.test('an odd generation at the start ends the step; the fourth such start is busy', async (t) => {
  const live = Buffer.alloc(SIZE);
  const s = new PageScanner(live, PAGE);
  let reads = 0;
  const { r, steps } = drive(
    s.sliced(() => {
      reads++;
      return 1n;
    }),
    1000,
  );
  t.equal(r, 'busy');
  t.equal(steps, 4, 'three restarts, then busy');
  t.equal(reads, 4);
  t.ok(s.snapshot.equals(Buffer.alloc(SIZE)));
});

t.test('a generation that moves during each pass restarts it within the same step, busy after three restarts', async (t) => {
  const live = Buffer.alloc(SIZE);
  const s = new PageScanner(live, PAGE);
  drive(
    s.sliced(() => 0n),
    1000,
  );
  live.fill(1, 0, PAGE);
  let g = 0n;
  let reads = 0;
  const { r, steps } = drive(
    s.sliced(() => {
      reads++;
      return (g += 2n);
    }),
    1000,
  );
  t.equal(r, 'busy');
  t.equal(steps, 1, 'the restarts used the same step');
  t.equal(reads, 2 * 4, 'four passes, the generation read before and after each');
  t.ok(s.snapshot.subarray(0, PAGE).equals(Buffer.alloc(PAGE)));
});

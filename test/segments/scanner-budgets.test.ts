import t from 'tap';
import { PageScanner, SLICED_SCAN_BYTES } from '../../src/segments/scanner.js';

// issue 18: what a whole scan promises beyond "changed pages are dirty": a change that moves
// only half of a page's hash is still seen, the page-size check says what is wrong, page()
// is the snapshot's page, and an unstable generation is retried for 5 ms (read off the clock
// once per 16 tries, so a retry costs no clock read) or at most 100,000 times, then 'busy'.
// The clock is performance.now(), replaced here by one the test moves: nothing is timed.

/** Run fn with performance.now() answering `now()`. */
function withClock<T>(now: () => number, fn: () => T): T {
  const real = performance.now;
  performance.now = now;
  try {
    return fn();
  } finally {
    performance.now = real;
  }
}

/**
 * 64-byte pages holding one little-endian u32 at offset 0. Found by search, once: the
 * XXH3-64 (seed 0) of 760 and 64176 agree in the low 32 bits, of 17319 and 26919 in the high.
 */
const LOW_SAME = [760, 64176] as const;
const HIGH_SAME = [17319, 26919] as const;

t.test('a change that moves only one 32-bit half of the page hash is still a dirty page', async (t) => {
  const live = Buffer.alloc(2 * 64);
  live.writeUInt32LE(LOW_SAME[0], 0);
  live.writeUInt32LE(HIGH_SAME[0], 64);
  const s = new PageScanner(live, 64);
  s.scan();
  live.writeUInt32LE(LOW_SAME[1], 0);
  live.writeUInt32LE(HIGH_SAME[1], 64);
  const r = s.scan();
  t.same(r !== 'busy' && r.dirty, [0, 1], 'page 0 differs only in the high half, page 1 only in the low half');
  t.ok(s.snapshot.equals(live));
});

t.test('a page size that is not positive or does not divide the region is refused, and the error says which', async (t) => {
  t.throws(() => new PageScanner(Buffer.alloc(3000), 1024), new RangeError('page size 1024 does not divide the region of 3000 bytes'));
  t.throws(() => new PageScanner(Buffer.alloc(8192), -1024), new RangeError('page size -1024 does not divide the region of 8192 bytes'));
  t.throws(() => new PageScanner(Buffer.alloc(8192), 0), new RangeError('page size 0 does not divide the region of 8192 bytes'));
  t.throws(
    () => new PageScanner(Buffer.alloc(3), 1.5),
    new RangeError('page size 1.5 does not divide the region of 3 bytes'),
    'a fractional size, though 3 % 1.5 is 0',
  );
});

t.test('page(k) is page k of the last snapshot', async (t) => {
  const live = Buffer.alloc(8 * 1024);
  for (let p = 0; p < 8; p++) live.fill(p + 1, p * 1024, (p + 1) * 1024);
  const s = new PageScanner(live, 1024);
  s.scan();
  live.fill(0xee); // the snapshot, not the live region
  for (const p of [0, 3, 7]) t.ok(s.page(p).equals(Buffer.alloc(1024, p + 1)), `page ${p}`);
});

t.test('only a region above SLICED_SCAN_BYTES needs slicing', async (t) => {
  t.equal(new PageScanner(Buffer.alloc(SLICED_SCAN_BYTES), 1024).needsSlicing, false, 'exactly the limit');
  t.equal(new PageScanner(Buffer.alloc(SLICED_SCAN_BYTES + 1024), 1024).needsSlicing, true, 'one page more');
});

t.test('an odd generation is retried until the clock is past 5 ms, looked at every 16th try', async (t) => {
  const s = new PageScanner(Buffer.alloc(4 * 1024), 1024);
  let clock = 1000;
  let tries = 0;
  let reads = 0;
  const r = withClock(
    () => {
      reads++;
      return clock;
    },
    () =>
      s.scan(() => {
        tries++;
        clock += 5 / 32; // exact in binary: after 32 tries the clock is exactly at the deadline
        if (tries > 1000) throw new Error('no end to the retries');
        return 1n;
      }),
  );
  t.equal(r, 'busy');
  // Looks after tries 16 (2.5 ms), 32 (5 ms: not past), 48 (7.5 ms: past, give up).
  t.equal(tries, 48, 'gave up at the first look past the budget');
  t.equal(reads, 4, 'one read for the deadline, one per 16 tries');
});

t.test('with a clock that does not move, the retries stop after 100,000 tries', async (t) => {
  const s = new PageScanner(Buffer.alloc(4 * 1024), 1024);
  let tries = 0;
  let reads = 0;
  const r = withClock(
    () => {
      reads++;
      return 0;
    },
    () =>
      s.scan(() => {
        if (++tries > 100_016) throw new Error('no end to the retries');
        return 1n;
      }),
  );
  t.equal(r, 'busy');
  t.equal(tries, 100_000);
  t.equal(reads, 1 + 100_000 / 16, 'the clock is read once per 16 tries');
});

t.test('a generation that turns stable within the budget lets the pass through', async (t) => {
  const live = Buffer.alloc(4 * 1024);
  const s = new PageScanner(live, 1024);
  let calls = 0;
  const r = s.scan(() => (++calls <= 20 ? 1n : 2n));
  t.same(r !== 'busy' && r.dirty, [0, 1, 2, 3], 'the first scan, once the generation held still');
  t.ok(s.snapshot.equals(live));
});

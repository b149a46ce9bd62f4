import t from 'tap';
import { PageScanner, SLICED_SCAN_BYTES } from '../../src/segments/scanner.js';

// issue 12: a region above SLICED_SCAN_BYTES is scanned in steps across event-loop turns.
// The steps must find exactly what one synchronous pass finds, take the same hashes, and
// leave the snapshot untouched when the writers' generation moved.

const PAGE = 1024;
const SIZE = 2 * SLICED_SCAN_BYTES;

function run(s: PageScanner, generation?: () => bigint) {
  const job = s.sliced(generation);
  let steps = 0;
  for (;;) {
    steps++;
    const r = job.step(0.5);
    if (r !== undefined) return { r, steps };
    if (steps > 1_000_000) throw new Error('sliced scan never ended');
  }
}

t.test('a sliced scan finds the same dirty pages as a whole scan, in more than one step', async (t) => {
  const live = Buffer.alloc(SIZE);
  const whole = new PageScanner(live, PAGE);
  const sliced = new PageScanner(live, PAGE);
  t.equal(sliced.needsSlicing, true);
  whole.scan();
  const first = run(sliced);
  t.equal(first.r !== 'busy' && first.r.dirty.length, SIZE / PAGE, 'the first scan reports every page');
  t.ok(first.steps > 1, `it took ${first.steps} steps`);
  for (const at of [0, 5 * PAGE + 7, SIZE - 1, SLICED_SCAN_BYTES]) live[at] = 0x5a;
  const a = whole.scan();
  const b = run(sliced).r;
  t.same(b !== 'busy' && b.dirty, a !== 'busy' && a.dirty, 'same dirty pages');
  t.ok(sliced.snapshot.equals(live), 'the snapshot holds the live region');
  const again = run(sliced).r;
  t.same(again !== 'busy' && again.dirty, [], 'nothing changed since: nothing dirty (the copies were hashed like a whole scan does)');
});

t.test('a sliced scan whose generation moves is retried and then busy, the snapshot left as it was', async (t) => {
  const live = Buffer.alloc(SIZE);
  const s = new PageScanner(live, PAGE);
  run(s, () => 0n);
  live.fill(1, 0, PAGE);
  let g = 0n;
  const r = run(s, () => (g += 2n)).r;
  t.equal(r, 'busy');
  t.ok(s.snapshot.subarray(0, PAGE).equals(Buffer.alloc(PAGE)), 'the unstable copy was not taken');
  const ok = run(s, () => 8n).r;
  t.same(ok !== 'busy' && ok.dirty, [0], 'a stable pass then takes it');
});

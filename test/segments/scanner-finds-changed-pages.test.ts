import t from 'tap';
import { PageScanner } from '../../src/segments/scanner.js';

t.test('the first scan reports every page, later scans only the pages that changed', async (t) => {
  const live = Buffer.alloc(8 * 1024);
  const s = new PageScanner(live, 1024);
  const first = s.scan();
  t.same(first !== 'busy' && first.dirty, [0, 1, 2, 3, 4, 5, 6, 7]);
  const second = s.scan();
  t.same(second !== 'busy' && second.dirty, [], 'nothing changed');
  live.writeUInt32LE(7, 3 * 1024 + 100);
  live.writeUInt32LE(9, 6 * 1024);
  const r = s.scan();
  t.same(r !== 'busy' && r.dirty, [3, 6]);
  t.ok(s.snapshot.equals(live), 'the snapshot holds what was sent');
  live.writeUInt32LE(9, 6 * 1024); // the same value again: no change
  t.same((s.scan() as { dirty: number[] }).dirty, []);
  s.forceFull();
  t.equal((s.scan() as { dirty: number[] }).dirty.length, 8, 'forceFull reports every page once');
});

t.test('while writers hold the generation odd or move it, the scan is busy and the snapshot is left as it was', async (t) => {
  const live = Buffer.alloc(4 * 1024);
  const s = new PageScanner(live, 1024);
  s.scan(() => 0n);
  live.fill(1, 0, 1024);
  t.equal(
    s.scan(() => 1n),
    'busy',
    'odd generation',
  );
  let g = 0n;
  t.equal(
    s.scan(() => (g += 2n)),
    'busy',
    'a generation that moves during every pass',
  );
  t.ok(s.snapshot.subarray(0, 1024).equals(Buffer.alloc(1024)), 'the snapshot did not take the unstable copy');
  const r = s.scan(() => 4n);
  t.same(r !== 'busy' && r.dirty, [0], 'a stable generation lets the change through');
  t.ok(s.snapshot.equals(live));
});

t.test('a page size that does not divide the region is refused', async (t) => {
  t.throws(() => new PageScanner(Buffer.alloc(3000), 1024), RangeError);
});

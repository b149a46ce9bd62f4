import t from 'tap';
import { bigSegmentBothWays } from '../fixtures/scenario/big-segment.js';

// issue 12: 256 MiB from a cold join, both ways (-i 1000): the master's MO goes as one full
// batch of 262,144 DATA, applied atomically, the remote's RO the other way; byte-identical
// within the bound, one session each side (no flap).
t.test('256 MiB from a cold join, both ways: byte-identical within the bound, zero session flaps', async (t) => {
  await bigSegmentBothWays(t, { mib: 256, intervalMs: 1000, cpuBound: 0, boundMs: 150_000 });
});

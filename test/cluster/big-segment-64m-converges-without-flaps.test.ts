import t from 'tap';
import { bigSegmentBothWays } from '../fixtures/scenario/big-segment.js';

// issue 12: 64 MiB both ways at -i 50 on a busy node (two CPU-bound processes beside the
// daemons): byte-identical within the bound, one session each side (no flap).
t.test('64 MiB both ways at -i 50 beside two CPU-bound processes: byte-identical within the bound, zero session flaps', async (t) => {
  await bigSegmentBothWays(t, { mib: 64, intervalMs: 50, cpuBound: 2, boundMs: 120_000 });
});

// docs/design.md §1, §2, §3b: the SysV keys of the master and of remote n, segment size rounding,
// the master's slices and the status segment's records, as fixed numbers a C client can rely on.
import t from 'tap';
import {
  DEFAULT_KEY_BASE,
  KEYS_PER_NODE,
  masterKeys,
  masterStRecords,
  MAX_KEY_BASE,
  MAX_REMOTES,
  OS_PAGE_SIZE,
  REMOTE_KEY_OFFSET,
  REMOTE_ST,
  remoteKeys,
  roundSegmentSize,
  sliceOffset,
  ST_RECORD_SIZE,
  stOwnerOffset,
  stSegmentSize,
} from '../../src/segments/layout.js';

t.test('the default keys are those of docs/design.md §2', async (t) => {
  t.same(masterKeys(), { MO: 0x314158, RO: 0x314159, BC: 0x31415a, ST: 0x31415b });
  t.same(remoteKeys(0), { MO: 0x314180, RO: 0x314181, BC: 0x314182, ST: 0x314183 });
  t.same(remoteKeys(3), { MO: 0x31418c, RO: 0x31418d, BC: 0x31418e, ST: 0x31418f });
  t.equal(DEFAULT_KEY_BASE + REMOTE_KEY_OFFSET, 0x314180);
  t.equal(KEYS_PER_NODE, 4);
});

t.test('-k moves every key by the same amount', async (t) => {
  t.same(masterKeys(0x1000), { MO: 0x1000, RO: 0x1001, BC: 0x1002, ST: 0x1003 });
  t.same(remoteKeys(2, 0x1000), { MO: 0x1030, RO: 0x1031, BC: 0x1032, ST: 0x1033 });
});

t.test('the largest key base keeps the last remote key a positive 31-bit number', async (t) => {
  const last = remoteKeys(MAX_REMOTES - 1, MAX_KEY_BASE);
  t.equal(last.ST, 0x7fffffff - 1, 'ST of the last remote is just below 2**31 - 1');
  t.ok(last.ST <= 0x7fffffff);
  t.equal(remoteKeys(MAX_REMOTES, MAX_KEY_BASE).MO, 0x7fffffff, 'one remote more would reach the limit');
});

t.test('sizes round up to whole OS pages and whole replication pages', async (t) => {
  t.equal(OS_PAGE_SIZE, 4096);
  t.equal(roundSegmentSize(1), 4096);
  t.equal(roundSegmentSize(4096), 4096, 'a whole page stays');
  t.equal(roundSegmentSize(4097), 8192);
  t.equal(roundSegmentSize(0), 4096, 'zero gets one page');
  t.equal(roundSegmentSize(-5), 4096, 'a negative size gets one page');
  t.equal(roundSegmentSize(1000, 1024), 4096, 'replication pages smaller than an OS page round to the OS page');
  t.equal(roundSegmentSize(4096, 16384), 16384, 'larger replication pages set the unit');
  t.equal(roundSegmentSize(16385, 16384), 32768);
  t.equal(roundSegmentSize(0, 16384), 16384, 'an empty request gets one unit of the larger page');
});

t.test('slice n of the master MO and RO starts at n times Seg_size', async (t) => {
  t.equal(sliceOffset(0, 8192), 0);
  t.equal(sliceOffset(3, 8192), 24576);
});

t.test('status records are numbered as docs/design.md §3b says', async (t) => {
  t.same(REMOTE_ST, { MO_IN: 0, BC_IN: 1, RO_OUT: 2, COUNT: 3 });
  const m = masterStRecords(5);
  t.equal(m.roIn(0), 0);
  t.equal(m.roIn(4), 4);
  t.equal(m.moOut(0), 5);
  t.equal(m.moOut(4), 9);
  t.equal(m.bcOut, 10);
  t.equal(m.count, 11);
});

t.test('the status segment holds the flow records and the owner record after them', async (t) => {
  t.equal(ST_RECORD_SIZE, 64);
  t.equal(stOwnerOffset(3), 192);
  t.equal(stSegmentSize(3), 4096);
  t.equal(stSegmentSize(63), 4096, '63 flow records and the owner record fill one page');
  t.equal(stSegmentSize(64), 8192, 'one more flow record needs a second page');
});

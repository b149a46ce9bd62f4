import t from 'tap';
import { renderStatus, renderTop } from '../../src/cli/pdsm-render.js';
import { MASTER_SNAPSHOT, MASTER_SNAPSHOT_LATER } from '../fixtures/snapshot.js';

const TABLE = `PEER   STATE    HEARD     RTT FLOW     PAGES   BYTES  NACKS   RETX RESYNC  PEND
0      up        0.0s  0.31ms MO out    127k  124MiB     12     15      1     -
10.0.0.11:40001               RO in     5000 4.88MiB      3      -      0     2
1      down    12m34s  12.5ms MO out     800  800KiB      0      0      2     -
~:1234:5678]:40002 bc-unicast RO in       64 64.0KiB      1      -      1     0
2      unknown      -       - MO out       0      0B      0      0      0     -
                              RO in        0      0B      0      -      0     0
all    mcast                  BC out     120  120KiB      4      4      0     -
`;

t.test('renderTop draws a fixed master snapshot as the expected 80-column text', async (t) => {
  t.equal(
    renderTop(MASTER_SNAPSHOT, 80),
    `pdsm_master  pid 4242  epoch 0x1a2b3c4d  up 1h02m03s                    q: quit
peers: 1 up, 1 down, 1 never joined
wire out 200k datagrams 128MiB, in 75076 datagrams 7.86MiB
dropped: decode-short=3 duplicate=17
scan: last 0.25 ms, max 0.50 ms over the last 3

${TABLE}`,
  );
});

t.test('renderTop adds wire rates when it has the previous report', async (t) => {
  const text = renderTop(MASTER_SNAPSHOT_LATER, 80, { previous: MASTER_SNAPSHOT, elapsedMs: 1000 });
  t.match(text, /^wire out 201k datagrams 129MiB, in 75126 datagrams 7\.91MiB\nrate out 1000\/s 1\.00MiB\/s, in 50\/s 50\.0KiB\/s\n/m);
  t.match(
    renderTop(MASTER_SNAPSHOT, 80, { previous: { ...MASTER_SNAPSHOT, epoch: 1 }, elapsedMs: 1000 }),
    /^rate: -$/m,
    'no rate across a restart (new epoch)',
  );
});

t.test('renderStatus wraps the parameters and keeps every line within 80 columns', async (t) => {
  t.equal(
    renderStatus(MASTER_SNAPSHOT),
    `pdsm_master  pid 4242  epoch 0x1a2b3c4d  up 1h02m03s
params: port=31415 family=4 remotes=3 seg_size=65536 page_size=1024 word_size=8
  interval_ms=100 mtu=1200 heartbeat_ms=100 liveness_ms=1000 bc_size=4096
  bc_mode=multicast multicast_group=239.1.2.3:31416
wire out 200k datagrams 128MiB, in 75076 datagrams 7.86MiB
dropped: decode-short=3 duplicate=17
scan: last 0.25 ms, max 0.50 ms over the last 3

${TABLE}`,
  );
});

t.test('a narrow terminal cuts lines instead of wrapping them', async (t) => {
  for (const line of renderTop(MASTER_SNAPSHOT, 60).split('\n')) t.ok(line.length <= 60, line);
  t.match(renderTop(MASTER_SNAPSHOT, 60), /^PEER {3}STATE .{40,}~$/m);
});

t.test('status and top name each outgoing flow that left NACKed numbers unanswered, and only those', async (t) => {
  const peers = MASTER_SNAPSHOT.peers.map((p, i) =>
    i === 0 ? { ...p, flows: p.flows.map((f) => (f.direction === 'out' ? { ...f, nackedTooOld: 3, nackedOversized: 1, nackShed: 12_345 } : f)) } : p,
  );
  const bc = { ...MASTER_SNAPSHOT.bc!, nackedTooOld: 0, nackedOversized: 2, nackShed: 0 };
  const report = { ...MASTER_SNAPSHOT, peers, bc };
  const want = ['NACKs unanswered MO out 0: 3 too old, 1 oversized, 12345 shed', 'NACKs unanswered BC out all: 0 too old, 2 oversized, 0 shed'];
  for (const [name, text] of [
    ['status', renderStatus(report)],
    ['top', renderTop(report, 80)],
  ] as const) {
    t.same(
      text.split('\n').filter((l) => l.startsWith('NACKs unanswered')),
      want,
      `${name}: a line for MO out of peer 0 and for the BC, none for the flows at 0`,
    );
  }
  t.notMatch(renderStatus(MASTER_SNAPSHOT), /NACKs unanswered/, 'all at 0 (or absent): no line');
});

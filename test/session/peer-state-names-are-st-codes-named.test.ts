// docs/design.md §3b: ST's peer-state codes (0 unknown, 1 joining, 2 up, 3 down) have one name
// each, the word `pdsm status`, `--json` and the metrics say; both session cores report them.
import t from 'tap';
import { PeerState } from '../../src/segments/status.js';
import { PEER_STATE_NAMES, peerStateName } from '../../src/session/states.js';
import { goodbye, heartbeat, hello, masterHarness, remoteHarness, welcome } from '../fixtures/session-harness.js';

t.test('each ST code has its name', async (t) => {
  t.same([PeerState.UNKNOWN, PeerState.JOINING, PeerState.UP, PeerState.DOWN].map(peerStateName), ['unknown', 'joining', 'up', 'down']);
  t.same(Object.keys(PEER_STATE_NAMES).sort(), ['0', '1', '2', '3'], 'no other code is named');
});

t.test("the master's peers: unknown until heard, up in a session, down after it", async (t) => {
  const h = masterHarness();
  t.same(
    h.core.peers(h.clock.now()).map((p) => p.state),
    ['unknown', 'unknown'],
  );
  h.deliver(hello({ src: 0, epoch: 11 }));
  h.deliver(heartbeat(0, 0xffff, 11));
  t.same(
    h.core.peers(h.clock.now()).map((p) => p.state),
    ['up', 'unknown'],
  );
  h.deliver(goodbye(0, 0xffff, 11));
  t.same(
    h.core.peers(h.clock.now()).map((p) => p.state),
    ['down', 'unknown'],
  );
});

t.test("the remote's master: joining, then up", async (t) => {
  const h = remoteHarness();
  t.equal(h.core.peerStateName, 'joining');
  h.deliver(welcome(h.core.epoch));
  await new Promise((r) => setImmediate(r));
  t.equal(h.core.peerStateName, 'up');
});

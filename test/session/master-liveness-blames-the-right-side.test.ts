import t from 'tap';
import { PeerState } from '../../src/segments/status.js';
import { MasterPeerState } from '../../src/session/states.js';
import { REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

function joined() {
  const h = masterHarness();
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  return h;
}

t.test('a remote silent past the liveness timeout is marked down and told GOODBYE evicted', async (t) => {
  const h = joined();
  h.advance(h.config.timers.livenessMs + 2 * h.config.timers.heartbeatMs);
  t.equal(h.core.peerState(0), MasterPeerState.DOWN);
  t.same(h.io.states.at(-1), [0, PeerState.DOWN]);
  const bye = h.io.take('goodbye');
  t.match(bye, [{ msg: { reason: 'evicted' }, to: REMOTE }]);
  t.match(h.io.logs.find((l) => l.text === 'remote down')?.fields, { reason: 'silent past the liveness timeout' });
  t.equal(h.core.peers(h.clock.now())[0]!.state, 'down');
});

t.test('any datagram of the session counts as heard', async (t) => {
  const h = joined();
  for (let i = 0; i < 20; i++) {
    h.advance(h.config.timers.livenessMs / 2);
    h.deliver({
      type: 'data',
      src: 0,
      dst: 0xffff,
      epoch: REMOTE_EPOCH,
      packetNumber: 10 + i,
      flow: 'ro',
      seq: 100 + i,
      batchId: 1,
      page: 0,
      offset: 0,
      payload: new Uint8Array(8),
    });
  }
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'DATA alone keeps the session');
  t.equal(h.ro[0]!.receiver?.datagrams, 20, 'and reaches the RO flow');
});

t.test('a master that stalled extends the deadline instead of dropping the session', async (t) => {
  const h = joined();
  // The event loop was blocked for three liveness timeouts: the next deadline comes that late.
  const late = 3 * h.config.timers.livenessMs;
  h.clock.advance(late);
  h.core.onTimeout(h.clock.now(), false);
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'not blamed on the remote');
  t.ok(
    h.io.logs.some((l) => /did not run for a while/.test(l.text)),
    'the stall is logged',
  );
  h.advance(h.config.timers.livenessMs + 2 * h.config.timers.heartbeatMs);
  t.equal(h.core.peerState(0), MasterPeerState.DOWN, 'a real silence afterwards still counts');
});

t.test('while this side still has datagrams queued to send, silence is judged only after twice the timeout', async (t) => {
  const h = joined();
  h.advance(1.5 * h.config.timers.livenessMs, true);
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'the join batch is still going out');
  h.advance(h.config.timers.livenessMs, true);
  t.equal(h.core.peerState(0), MasterPeerState.DOWN, 'but not for ever');
});

t.test('GOODBYE from the remote marks it down at once', async (t) => {
  const h = joined();
  h.deliver({ type: 'goodbye', src: 0, dst: 0xffff, epoch: REMOTE_EPOCH, packetNumber: 3, reason: 'shutdown' });
  t.equal(h.core.peerState(0), MasterPeerState.DOWN);
  t.equal(h.io.take('goodbye').length, 0, 'no GOODBYE back');
  t.equal(h.mo[0]!.sender, undefined, 'its MO flow stopped');
});

import t from 'tap';
import { REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

const OTHER_PORT = { address: REMOTE.address, port: REMOTE.port + 1 };

t.test('a HELLO for a live session from another port gets REJECT duplicate, whatever its epoch', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.io.take();
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 }), OTHER_PORT);
  h.deliver(hello(), OTHER_PORT);
  const rejects = h.io.take('reject');
  t.same(
    rejects.map((r) => r.msg.reason),
    ['duplicate', 'duplicate'],
  );
  t.same(rejects[0]!.to, OTHER_PORT);
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  t.equal(h.io.drops.length, 0, 'the old session still speaks');
  t.equal(h.mo[0]!.starts, 1, 'and keeps its flows');
});

t.test('once the old session was silent past liveness, the HELLO replaces it and the old peer is told GOODBYE evicted', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  // Silent, but the master's heartbeat duty has not run yet: the HELLO finds it silent.
  h.clock.advance(h.config.timers.livenessMs + 1);
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 }), OTHER_PORT);
  const sent = h.io.take();
  const bye = sent.find((s) => s.msg.type === 'goodbye');
  t.match(bye?.msg, { type: 'goodbye', reason: 'evicted' });
  t.same(bye?.to, REMOTE, 'to the old address');
  t.same(sent.find((s) => s.msg.type === 'welcome')?.to, OTHER_PORT, 'WELCOME to the new one');
  t.equal(h.core.peers(h.clock.now())[0]!.sessions, 2);
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  t.same(h.io.drops, ['not-joined'], 'the old session is gone');
});

t.test("a HELLO with a new epoch from the session's own address and port is a restart: a new session at once", async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.io.take();
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1, roNextSeq: 5 }));
  const sent = h.io.take();
  t.equal(sent.filter((s) => s.msg.type === 'goodbye').length, 0, 'no GOODBYE to the new process');
  t.match(sent.find((s) => s.msg.type === 'welcome')?.msg, { remoteEpoch: REMOTE_EPOCH + 1 });
  t.equal(h.ro[0]!.receiver?.expected, 5, "RO starts afresh at the new HELLO's RO Next Seq");
});

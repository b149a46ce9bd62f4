import t from 'tap';
import { MasterState } from '../../src/session/states.js';
import { REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

t.test('after SIGTERM the master says GOODBYE shutdown and answers every HELLO with REJECT unavailable', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  h.core.close();
  t.equal(h.core.state, MasterState.CLOSING);
  t.match(h.io.take('goodbye'), [{ msg: { reason: 'shutdown' }, to: REMOTE }]);
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 }));
  h.deliver(hello({ src: 1, epoch: 9 }), { address: '127.0.0.2', port: 5 });
  const answers = h.io.take();
  t.same(
    answers.map((a) => a.msg.type === 'reject' && a.msg.reason),
    ['unavailable', 'unavailable'],
  );
  h.advance(10_000);
  t.equal(h.io.take().length, 0, 'no heartbeats or scans once closing');
});

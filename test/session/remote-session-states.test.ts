import t from 'tap';
import { PeerState } from '../../src/segments/status.js';
import { RemoteState } from '../../src/session/states.js';
import { MASTER, MASTER_EPOCH, REMOTE_EPOCH, goodbye, heartbeat, remoteHarness, reject, settle, welcome } from '../fixtures/session-harness.js';

async function up() {
  const h = remoteHarness();
  h.deliver(welcome(REMOTE_EPOCH));
  await settle();
  h.io.take();
  return h;
}

t.test('a remote says HELLO at once and again with back-off until WELCOME', async (t) => {
  const h = remoteHarness();
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.io.states, [[-1, PeerState.JOINING]]);
  t.equal(h.io.take('hello').length, 1, 'HELLO at start');
  h.advance(499);
  t.equal(h.io.take('hello').length, 0, 'not before 500 ms (jitter 1.0 here)');
  h.advance(1);
  t.equal(h.io.take('hello').length, 1, 'then again');
  h.advance(1000 + 2000 + 4000 + 8000 + 8000);
  t.equal(h.io.take('hello').length, 5, 'doubling to 8 s');
  t.equal(h.core.peerStateName, 'joining');
});

t.test('a lost WELCOME: the next HELLO keeps the epoch, so the master can resend it', async (t) => {
  const h = remoteHarness();
  const [first] = h.io.take('hello');
  h.advance(600);
  const [second] = h.io.take('hello');
  t.equal(second!.msg.epoch, first!.msg.epoch);
  t.equal(second!.msg.roNextSeq, first!.msg.roNextSeq, 'same RO Next Seq');
});

t.test('WELCOME for its own epoch takes the remote UP with flows from its fields and the full RO batch', async (t) => {
  const h = await up();
  t.equal(h.core.state, RemoteState.UP);
  t.equal(h.mo.receiver?.expected, 7, "MO from WELCOME's MO Next Seq");
  t.equal(h.ro.ticks, 1, 'the full RO batch right away');
  t.equal(h.core.sessions, 1);
  h.deliver(welcome(REMOTE_EPOCH));
  await settle();
  t.equal(h.ro.starts, 1, 'a repeated WELCOME changes nothing');
  h.deliver(welcome(REMOTE_EPOCH, { epoch: MASTER_EPOCH + 5 }));
  t.match(h.io.drops, ['stale-welcome'], 'a WELCOME of another master epoch while UP is dropped');
});

t.test('a WELCOME for another remote epoch is ignored', async (t) => {
  const h = remoteHarness();
  h.deliver(welcome(REMOTE_EPOCH + 1));
  await settle();
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.io.drops, ['stale-welcome']);
});

for (const [event, send] of [
  ['GOODBYE', (h: Awaited<ReturnType<typeof up>>) => h.deliver(goodbye(0xffff, 0, MASTER_EPOCH))],
  ['GOODBYE evicted', (h: Awaited<ReturnType<typeof up>>) => h.deliver(goodbye(0xffff, 0, MASTER_EPOCH, 'evicted'))],
  ['a HEARTBEAT of a new master epoch', (h: Awaited<ReturnType<typeof up>>) => h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH + 1))],
  ['REJECT not-joined', (h: Awaited<ReturnType<typeof up>>) => h.deliver(reject(REMOTE_EPOCH, 'not-joined'))],
  ['the liveness timeout', (h: Awaited<ReturnType<typeof up>>) => h.advance(1000 + 300)],
] as const) {
  t.test(`${event} takes the remote back to JOINING with a new epoch`, async (t) => {
    const h = await up();
    send(h);
    t.equal(h.core.state, RemoteState.JOINING);
    t.same(h.io.states.at(-1), [-1, PeerState.DOWN]);
    t.equal(h.core.peerStateName, 'down');
    const [again] = h.io.take('hello');
    t.equal(again?.msg.epoch, REMOTE_EPOCH + 1, 'HELLO at once, in a new epoch');
    t.equal(h.ro.sender, undefined, 'flow state dropped');
  });
}

t.test('datagrams of the master keep the session; those from elsewhere are dropped', async (t) => {
  const h = await up();
  for (let i = 0; i < 30; i++) {
    h.advance(100);
    h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH, { flows: [{ flow: 'mo', highestSeq: 9 }] }));
  }
  t.equal(h.core.state, RemoteState.UP);
  t.equal(h.mo.receiver?.highest, 9, "HEARTBEAT's MO highest reaches the receiver");
  h.deliver(goodbye(0xffff, 0, MASTER_EPOCH), { address: MASTER.address, port: MASTER.port + 1 });
  t.equal(h.core.state, RemoteState.UP, "a GOODBYE from another port is not the master's");
  t.same(h.io.drops, ['unknown-source']);
  h.deliver(goodbye(0xffff, 0, MASTER_EPOCH), { address: `::ffff:${MASTER.address}`, port: MASTER.port });
  t.equal(h.core.state, RemoteState.JOINING, "the master's address on a dual-stack socket is the master");
});

t.test('a remote that stalled does not blame the master', async (t) => {
  const h = await up();
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.equal(h.core.state, RemoteState.UP);
  t.equal(h.io.take('heartbeat').length, 1, 'it sends its heartbeat instead');
});

t.test('SIGTERM: the last RO batch and GOODBYE shutdown, then CLOSED', async (t) => {
  const h = await up();
  h.core.close();
  t.equal(h.core.state, RemoteState.CLOSED);
  t.equal(h.ro.ticks, 2, 'the final batch');
  t.match(h.io.take('goodbye'), [{ msg: { reason: 'shutdown' } }]);
  h.advance(60_000);
  t.equal(h.io.take().length, 0, 'nothing after');
});

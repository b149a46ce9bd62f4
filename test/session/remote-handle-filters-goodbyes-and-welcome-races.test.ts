// spec §4.2, §4.4, §7.1, §7.11: what a remote's core takes from the master and what it drops
// (with which reason), why it says the master went down, and a WELCOME that arrives prepared
// after the remote stopped.
import t from 'tap';
import type { Message } from '../../src/udp/codec.js';
import { RemoteState } from '../../src/session/states.js';
import { MASTER_EPOCH, REMOTE_EPOCH, goodbye, heartbeat, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

const GROUP = { port: 31416, address: new Uint8Array([239, 1, 2, 3]) };

function data(flow: 'mo' | 'bc', dst: number, epoch = MASTER_EPOCH, src = 0xffff): Message {
  return { type: 'data', src, dst, epoch, packetNumber: 4, flow, seq: 5, batchId: 1, page: 0, offset: 0, payload: new Uint8Array(8) };
}

async function up() {
  const h = remoteHarness({ clientId: 2 });
  h.withBc();
  h.deliver(welcome(REMOTE_EPOCH, { dst: 2, bcMode: 'multicast', bcSize: 4096, bcNextSeq: 5, multicast: GROUP, livenessMs: 60_000 }));
  await settle();
  h.io.take();
  return h;
}

t.test('only datagrams from the master to this client, or BC to all, are taken', async (t) => {
  const h = await up();
  h.deliver(data('mo', 2, MASTER_EPOCH, 7));
  h.deliver(data('mo', 3));
  h.deliver(data('mo', 0xfffe));
  h.deliver(heartbeat(0xffff, 0xfffe, MASTER_EPOCH));
  t.same(h.io.drops, ['not-for-us', 'not-for-us', 'not-for-us', 'not-for-us'], 'from a client id, to another, MO or a HEARTBEAT to all');
  t.equal(h.mo.receiver?.datagrams, 0);
  h.deliver(data('bc', 0xfffe), undefined, true);
  h.deliver(data('bc', 2));
  h.deliver(data('mo', 2));
  t.equal(h.bcIn.receiver?.datagrams, 2, 'BC to all and BC to this client');
  t.equal(h.mo.receiver?.datagrams, 1);
  t.equal(h.io.drops.length, 4);
});

t.test('what arrives before the session is dropped as not joined; an old master epoch as such', async (t) => {
  const h = remoteHarness();
  h.deliver(data('mo', 0));
  t.same(h.io.drops, ['not-joined']);
  const u = await up();
  u.deliver(data('mo', 2, MASTER_EPOCH - 1));
  t.same(u.io.drops, ['old-master-epoch']);
  t.equal(u.core.state, RemoteState.UP, 'DATA of another epoch does not end the session');
});

t.test('the reason the master went down, as logged', async (t) => {
  const cases: [string, (h: Awaited<ReturnType<typeof up>>) => void][] = [
    ['master said goodbye', (h) => h.deliver(goodbye(0xffff, 2, MASTER_EPOCH))],
    ['the master evicted this session', (h) => h.deliver(goodbye(0xffff, 2, MASTER_EPOCH, 'evicted'))],
    ['master restarted (new epoch)', (h) => h.deliver(heartbeat(0xffff, 2, MASTER_EPOCH + 1))],
    ['master restarted (new epoch)', (h) => h.deliver(goodbye(0xffff, 2, MASTER_EPOCH + 1))],
  ];
  for (const [reason, send] of cases) {
    const h = await up();
    send(h);
    t.equal(h.core.state, RemoteState.JOINING);
    t.same(
      h.io.logs.filter((l) => l.text === 'master down; joining again').map((l) => l.fields['reason']),
      [reason],
    );
  }
});

t.test("every datagram of the session counts as heard from the master (id -1), and its RTT is the RO flow's", async (t) => {
  const h = await up();
  const heard: number[] = [];
  const rtts: [number, number][] = [];
  Object.assign(h.io, { heard: (id: number) => void heard.push(id), rtt: (id: number, ms: number) => void rtts.push([id, ms]) });
  h.deliver(data('mo', 2));
  t.same(heard, [-1]);
  h.advance(100);
  const [beat] = h.io.take('heartbeat');
  h.clock.advance(30);
  h.deliver(heartbeat(0xffff, 2, MASTER_EPOCH, { echo: { timestamp: beat!.msg.timestamp, delay: 0 } }));
  t.same(rtts, [[-1, 30]]);
  t.same(h.ro.sender!.rtts, [30]);
});

t.test('WELCOME takes the timers and the smaller MTU of both', async (t) => {
  const h = remoteHarness({ mtu: 576 });
  h.deliver(welcome(REMOTE_EPOCH, { heartbeatMs: 250, livenessMs: 4000, mtu: 1200 }));
  await settle();
  t.same(h.core.timers, { heartbeatMs: 250, livenessMs: 4000, digestMs: 30_000 });
  t.equal(h.core.session?.mtu, 576);
  t.equal(h.ro.lastStart?.geometry.mtu, 576, 'RO is cut for it');
});

t.test('a WELCOME still being prepared when the remote stops does not take it UP', async (t) => {
  const h = remoteHarness();
  h.deliver(welcome(REMOTE_EPOCH));
  h.core.close();
  await settle();
  t.equal(h.core.state, RemoteState.CLOSED);
  t.equal(h.ro.starts, 0);
  t.equal(h.core.sessions, 0);
});

// spec §4.2, §4.4, §7.1, §7.11: what a remote's core takes from the master and what it drops
// (with which reason), why it says the master went down, and a WELCOME that arrives prepared
// after the remote stopped.
import t from 'tap';
import type { Message } from '../../src/udp/codec.js';
import { RemoteState } from '../../src/session/states.js';
import { MASTER_EPOCH, REMOTE_EPOCH, goodbye, heartbeat, reject, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

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

t.test('UP: the flows are wired to the master: NACK and RESYNC of MO and BC go out, RO goes out, NACKs of RO reach its sender', async (t) => {
  const h = remoteHarness({ clientId: 2 });
  h.withBc();
  const starts: Record<string, Record<string, unknown>> = {};
  for (const [name, port] of [
    ['mo', h.mo],
    ['bc', h.bcIn],
  ] as const) {
    const start = port.start.bind(port);
    port.start = (o) => void ((starts[name] = o as Record<string, unknown>), start(o));
  }
  const states: [number, number][] = [];
  const heard: number[] = [];
  Object.assign(h.io, { peerState: (id: number, s: number) => void states.push([id, s]), heard: (id: number) => void heard.push(id) });
  h.deliver(welcome(REMOTE_EPOCH, { dst: 2, bcMode: 'multicast', bcSize: 4096, multicast: GROUP, clientCount: 3 }));
  await settle();
  t.same(states, [[-1, 2]], 'the master is up (ST code 2)');
  t.same(heard, [-1]);
  t.same(
    h.io.logs.filter((l) => l.text === 'joined master').map((l) => l.fields),
    [{ master: '127.0.0.1:31415', master_epoch: MASTER_EPOCH, remotes: 3 }],
  );
  t.same(h.io.take('heartbeat'), [], 'version 1: no cookie to echo, so no heartbeat at once');
  t.equal(typeof starts['bc']!['nackBackoff'], 'function', 'BC Mode 2: NACKs back off at random');
  t.equal(starts['mo']!['nackBackoff'], undefined, 'MO: no back-off');
  for (const flow of ['mo', 'bc'] as const) {
    const o = starts[flow] as { sendNack(r: { first: number; count: number }[]): void; requestResync(f: number, c: number, full: boolean): void };
    o.sendNack([{ first: 3, count: 2 }]);
    o.requestResync(4, 5, true);
    t.same(
      h.io.take().map((s) => [s.to.port, s.msg]),
      [
        [31415, { type: 'nack', src: 2, dst: 0xffff, epoch: REMOTE_EPOCH, flow, ranges: [{ first: 3, count: 2 }] }],
        [31415, { type: 'resync', src: 2, dst: 0xffff, epoch: REMOTE_EPOCH, flow, full: true, firstPage: 4, pageCount: 5 }],
      ],
      `${flow} feedback to the master`,
    );
  }
  h.ro.lastStart!.emit(data('mo', 0) as never);
  t.same(
    h.io.take().map((s) => s.to.port),
    [31415],
    'RO datagrams go to the master',
  );
  h.deliver({ type: 'nack', src: 0xffff, dst: 2, epoch: MASTER_EPOCH, packetNumber: 6, flow: 'ro', ranges: [{ first: 1, count: 1 }] });
  t.equal(h.ro.sender!.nacks, 1, "the master's NACK of RO reaches the RO sender");
});

t.test('BC Mode 1: BC NACKs do not back off', async (t) => {
  const h = remoteHarness();
  h.withBc();
  let options: Record<string, unknown> = {};
  const start = h.bcIn.start.bind(h.bcIn);
  h.bcIn.start = (o) => void ((options = o as Record<string, unknown>), start(o));
  h.deliver(welcome(REMOTE_EPOCH, { bcMode: 'unicast', bcSize: 4096 }));
  await settle();
  t.equal(h.bcIn.starts, 1);
  t.equal(options['nackBackoff'], undefined);
});

t.test('REJECT not-joined ends a session with its reason; a configuration REJECT does not end one', async (t) => {
  const h = await up();
  h.deliver({ ...reject(REMOTE_EPOCH, 'seg-size', 4096, 8192), dst: 2 });
  t.equal(h.core.state, RemoteState.UP, 'a joined session ends only by the events of §7.11');
  t.equal(h.core.problem, undefined);
  h.deliver({ ...reject(REMOTE_EPOCH, 'not-joined'), dst: 2 });
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(
    h.io.logs.filter((l) => l.text === 'master down; joining again').map((l) => l.fields['reason']),
    ['master does not know us (it restarted or marked us down)'],
  );
});

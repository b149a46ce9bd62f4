// The MasterSessions entry points only the daemon's wiring calls (onUnsealedHello,
// onNoSession, setAllowed, flushScan, peers), the REJECTs the master answers strays with, and
// the log lines an operator reads (joined, down and why, rejected). Found by mutation testing
// (issue 18): these ran only in daemon tests, which run dist/ and cannot see a mutant.
import t from 'tap';
import { PeerState } from '../../src/segments/status.js';
import { MasterPeerState } from '../../src/session/states.js';
import type { Outgoing } from '../../src/session/io.js';
import { MASTER_EPOCH, REMOTE, REMOTE_EPOCH, goodbye, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

type Reject = Extract<Outgoing, { type: 'reject' }>;
const rejects = (h: ReturnType<typeof masterHarness>) => h.io.take('reject').map((r) => ({ ...r, msg: r.msg as Reject }));
const logsOf = (h: ReturnType<typeof masterHarness>, text: string) => h.io.logs.filter((l) => l.text === text);

t.test('onUnsealedHello: an unsealed HELLO to a keyed master gets an unsealed REJECT auth-required that says what to do', async (t) => {
  const h = masterHarness({ sealed: true, remotes: 3 });
  h.core.onUnsealedHello(hello({ src: 2 }), REMOTE, h.clock.now());
  const [r] = rejects(h);
  t.match(r, {
    to: REMOTE,
    plain: true,
    msg: {
      src: 0xffff,
      dst: 2,
      epoch: MASTER_EPOCH,
      remoteEpoch: REMOTE_EPOCH,
      reason: 'auth-required',
      expected: 0,
      offered: 0,
      text: 'this master authenticates every datagram: give the remote --psk-file with the same key',
    },
  });
  t.same(
    logsOf(h, 'rejected remote').map((l) => [l.level, l.fields]),
    [['warn', { client: 2, from: '127.0.0.1:40000', reason: 'auth-required', expected: 0, offered: 0 }]],
    'the operator sees who was refused and why',
  );
  h.core.onUnsealedHello(hello({ src: 3 }), { ...REMOTE, address: '127.0.0.9' }, h.clock.now());
  t.same(h.io.sent, [], 'a client id out of range gets nothing');
});

t.test('onNoSession: a sealed datagram with no session keys gets REJECT not-joined, unless it is the live session’s', async (t) => {
  const h = masterHarness();
  const now = () => h.clock.now();
  h.core.onNoSession(0, REMOTE_EPOCH, REMOTE, now());
  const [r] = rejects(h);
  t.match(r, { to: REMOTE, plain: false, msg: { dst: 0, remoteEpoch: REMOTE_EPOCH, reason: 'not-joined', text: 'no session: say HELLO' } });
  t.same(logsOf(h, 'rejected remote'), [], 'not-joined is routine: no warning');
  h.core.onNoSession(2, REMOTE_EPOCH, { ...REMOTE, address: '127.0.0.2' }, now());
  t.same(h.io.sent, [], 'a client id out of range (2 of 0..1) gets nothing');

  h.deliver(hello());
  h.io.take();
  h.core.onNoSession(0, REMOTE_EPOCH, REMOTE, now());
  t.same(h.io.sent, [], 'the live session itself (same address, same epoch): nothing');
  h.core.onNoSession(0, REMOTE_EPOCH + 1, REMOTE, now());
  t.match(rejects(h), [{ msg: { reason: 'not-joined', remoteEpoch: REMOTE_EPOCH + 1 } }], 'another epoch from that address: REJECT');
  h.core.onNoSession(0, REMOTE_EPOCH, { ...REMOTE, port: REMOTE.port + 1 }, now());
  t.match(rejects(h), [{ msg: { reason: 'not-joined' } }], 'the same epoch from another port: REJECT');
});

t.test('-g: a HELLO is refused until its source is what the Clientname resolves to (setAllowed)', async (t) => {
  const h = masterHarness({ clientNames: ['alpha', 'beta'] });
  h.deliver(hello());
  const [r] = rejects(h);
  t.match(r?.msg, { reason: 'address', text: '127.0.0.1 is not alpha (Clientname of client 0)' });
  h.core.setAllowed(0, ['::ffff:127.0.0.1']);
  h.deliver(hello());
  t.equal(h.io.take('welcome').length, 1, 'an IPv4-mapped form of the same address is the same address');
  h.core.setAllowed(1, ['10.0.0.1']);
  h.deliver(hello({ src: 1, epoch: REMOTE_EPOCH + 1 }), { ...REMOTE, port: REMOTE.port + 1 });
  t.match(rejects(h), [{ msg: { reason: 'address', text: '127.0.0.1 is not beta (Clientname of client 1)' } }]);
});

t.test('a REJECT for a HELLO that does not fit goes sealed (never plain) and is logged with the numbers', async (t) => {
  const h = masterHarness({ sealed: true });
  h.deliver(hello({ pageSize: 4096 }));
  const [r] = rejects(h);
  t.match(r, { plain: false, msg: { reason: 'page-size', expected: 1024, offered: 4096 } });
  t.same(
    logsOf(h, 'rejected remote').map((l) => l.fields),
    [{ client: 0, from: '127.0.0.1:40000', reason: 'page-size', expected: 1024, offered: 4096 }],
  );
});

t.test('datagrams that are not for this master, or not of a session, are dropped; only some earn a REJECT', async (t) => {
  const h = masterHarness();
  h.deliver(heartbeat(0, 5, REMOTE_EPOCH));
  t.same(h.io.drops, ['not-for-master']);
  t.same(h.io.sent, [], 'nothing answered');
  h.deliver(hello());
  h.io.take();
  h.io.drops.length = 0;
  const other = { ...REMOTE, port: REMOTE.port + 1 };
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH), other);
  t.same(h.io.drops, ['not-joined'], 'the session’s id from another address is not the session');
  t.match(rejects(h), [{ to: other, msg: { reason: 'not-joined', text: 'no session: say HELLO' } }]);
  h.deliver(goodbye(0, 0xffff, REMOTE_EPOCH), other);
  h.deliver(
    {
      type: 'reject',
      src: 0,
      dst: 0xffff,
      epoch: REMOTE_EPOCH,
      packetNumber: 3,
      remoteEpoch: 1,
      expected: 0,
      offered: 0,
      reason: 'not-joined',
      text: null,
      options: [],
    },
    other,
  );
  t.same(h.io.sent, [], 'a GOODBYE or a REJECT from a stranger is never answered (no REJECT ping-pong)');
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'and the real session is untouched');
});

t.test('log lines: joined (with hostname), down and why, for each way a session ends', async (t) => {
  const h = masterHarness();
  h.deliver(hello({ hostname: 'node-7' }));
  t.same(
    logsOf(h, 'remote joined').map((l) => [l.level, l.fields]),
    [['info', { client: 0, address: '127.0.0.1:40000', epoch: REMOTE_EPOCH, hostname: 'node-7' }]],
    'version 1: joined at the HELLO, once',
  );
  h.deliver(goodbye(0, 0xffff, REMOTE_EPOCH));
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 }));
  h.deliver(goodbye(0, 0xffff, REMOTE_EPOCH + 1, 'evicted'));
  h.deliver(hello({ epoch: REMOTE_EPOCH + 2 }));
  h.deliver(hello({ epoch: REMOTE_EPOCH + 3 })); // the remote restarted: a new epoch from the same address
  h.advance(3000); // silent past the liveness timeout
  const downs = logsOf(h, 'remote down').map((l) => [l.level, l.fields.reason]);
  t.same(downs, [
    ['warn', 'said goodbye'],
    ['warn', 'said goodbye (evicted)'],
    ['warn', 'joined again (new epoch)'],
    ['warn', 'silent past the liveness timeout'],
  ]);
  t.same(logsOf(h, 'remote down')[0]?.fields, { client: 0, address: '127.0.0.1:40000', reason: 'said goodbye' });
  t.equal(h.io.states.filter(([, s]) => s === PeerState.DOWN).length, downs.length, 'each down is in ST too');
});

t.test('a session silent past the liveness timeout is replaced by a HELLO from elsewhere, and the log says from where', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  const other = { ...REMOTE, port: REMOTE.port + 1 };
  h.clock.advance(500);
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 }), other);
  t.match(rejects(h), [{ to: other }], 'while it may be alive, the newcomer is refused');
  h.clock.advance(1500); // silent past 1000 ms; no heartbeat tick has ended it yet
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 }), other);
  t.same(
    logsOf(h, 'remote down').map((l) => l.fields),
    [{ client: 0, address: '127.0.0.1:40000', reason: 'replaced by a HELLO from 127.0.0.1:40001' }],
  );
  const sent = h.io.take();
  t.match(
    sent.map((s) => [s.msg.type, s.to.port]),
    [
      ['goodbye', REMOTE.port],
      ['welcome', other.port],
    ],
    'the old address is told it was evicted; the new one welcomed',
  );
});

t.test('version 2: "welcomed, waiting for its cookie" at the HELLO, "joined" once validated, and an unvalidated end is a debug line', async (t) => {
  const nonce = (b: number) => new Uint8Array(16).fill(b);
  const h = masterHarness({ versions: { min: 2, max: 2 }, freshNonce: () => nonce(0xc0) });
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(1) }));
  t.same(
    h.io.logs.map((l) => [l.level, l.text]),
    [['debug', 'welcomed remote; waiting for its cookie']],
  );
  t.same(h.io.logs[0]?.fields, { client: 0, address: '127.0.0.1:40000', epoch: REMOTE_EPOCH, hostname: undefined });
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH)); // no cookie: still pending
  t.equal(h.io.heardCount, 0, 'a pending session is not reported as heard');
  t.same(h.io.drops, [], 'a HEARTBEAT without the cookie is taken (RTT, highest seq), not dropped');
  const [w] = h.io.take('welcome');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { cookie: w!.msg.cookie! }));
  t.same(
    logsOf(h, 'remote joined').map((l) => [l.level, l.fields]),
    [['info', { client: 0, address: '127.0.0.1:40000', epoch: REMOTE_EPOCH }]],
  );
  t.ok(h.io.heardCount > 0, 'heard once validated');

  const p = masterHarness({ versions: { min: 2, max: 2 } });
  p.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(2) }));
  p.deliver(goodbye(0, 0xffff, REMOTE_EPOCH));
  t.same(
    p.io.logs.filter((l) => l.text === 'unvalidated session ended').map((l) => [l.level, l.fields]),
    [['debug', { client: 0, address: '127.0.0.1:40000', reason: 'said goodbye' }]],
    'a GOODBYE ends a pending session, quietly',
  );
  t.same(logsOf(p, 'remote down'), [], 'no "remote down": it was never up');
  t.same(p.io.states, [], 'nothing in ST');
  t.equal(p.core.peers(p.clock.now())[0]?.state, 'unknown', 'never up: unknown, not down');
});

t.test('a HELLO offering version 2 with a NONCE to a version-1 master makes a version-1 session: no nonce, no cookie, up at once', async (t) => {
  const h = masterHarness({ versions: { min: 1, max: 1 } });
  h.deliver(hello({ versionMin: 1, versionMax: 2, nonce: new Uint8Array(16).fill(3) }));
  const [w] = h.io.take('welcome');
  t.match(w?.msg, { version: 1, nonce: null, cookie: null, groupNonce: null });
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'UP');
});

t.test('flushScan: only flows the periodic scan would send, and nothing once closing', async (t) => {
  const h = masterHarness({}, true);
  t.equal(h.core.flushScan('bc'), 'down', 'BC with no session validated');
  t.equal(h.core.flushScan('mo', 0), 'down', 'MO slice of a client with no session');
  t.equal(h.core.flushScan('mo', 7), 'down', 'a client id that does not exist');
  h.deliver(hello());
  t.equal(h.core.flushScan('mo', 0), 'down', 'a session not yet validated (no datagram after its HELLO)');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  const [mo, bc] = [h.mo[0]!.ticks, h.bc!.ticks];
  t.equal(h.core.flushScan('mo', 0), 0, 'MO of a validated session: scanned');
  t.equal(h.mo[0]!.ticks, mo + 1);
  t.equal(h.core.flushScan('mo', 1), 'down', 'but not another client’s');
  t.equal(h.core.flushScan('bc'), 0, 'BC once anyone is validated');
  t.equal(h.bc!.ticks, bc + 1);
  const plain = masterHarness();
  plain.deliver(hello());
  plain.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  t.equal(plain.core.flushScan('bc'), 'down', 'a master without BC');
  h.core.close();
  t.equal(h.core.flushScan('mo', 0), 'down', 'closing: MO');
  t.equal(h.core.flushScan('bc'), 'down', 'closing: BC');
});

t.test('peers(): last heard from the last datagram, its address and RTT; kept after the session ends', async (t) => {
  const h = masterHarness({ group: { address: '239.1.2.3', port: 31416 } }, true);
  t.same(h.core.peers(h.clock.now())[1], { id: 1, state: 'unknown', sessions: 0, bcUnicast: false }, 'never joined');
  h.deliver(hello());
  h.advance(500);
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.advance(120);
  const [p] = h.core.peers(h.clock.now());
  t.match(p, { id: 0, state: 'up', sessions: 1, address: '127.0.0.1:40000', lastHeardMsAgo: 120, bcUnicast: false, validated: true });
  h.deliver(goodbye(0, 0xffff, REMOTE_EPOCH));
  h.advance(80);
  t.match(h.core.peers(h.clock.now())[0], { state: 'down', address: '127.0.0.1:40000', lastHeardMsAgo: 80 }, 'down: its GOODBYE, 80 ms ago');
  t.notOk('validated' in h.core.peers(h.clock.now())[0]!, 'no session: no validated field');
});

t.test('peers(): the RTT of the session, then of the last session', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.advance(100); // a HEARTBEAT from the master, with its timestamp
  const [beat] = h.io.take('heartbeat');
  h.advance(10);
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { echo: { timestamp: beat!.msg.timestamp, delay: 0 } }));
  const rtt = h.core.peers(h.clock.now())[0]?.rttMs;
  t.equal(rtt, 10, 'one sample of 10 ms');
  h.deliver(goodbye(0, 0xffff, REMOTE_EPOCH));
  t.equal(h.core.peers(h.clock.now())[0]?.rttMs, 10, 'kept after it ended');
});

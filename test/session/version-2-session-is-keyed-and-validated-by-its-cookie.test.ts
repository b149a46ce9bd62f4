// spec §4.1, §4.2, §9.2, §9.6: in version 2 the HELLO and WELCOME carry fresh nonces, the
// core installs the session keys from both, and the master shows a remote up (and starts
// its batches) only once a HEARTBEAT of the session echoes the WELCOME's cookie.
import t from 'tap';
import { PeerState } from '../../src/segments/status.js';
import { MasterPeerState, RemoteState } from '../../src/session/states.js';
import type { SessionStart } from '../../src/session/io.js';
import { MASTER_EPOCH, REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

const V2 = { versions: { min: 2, max: 2 } };
const nonce = (b: number): Uint8Array => new Uint8Array(16).fill(b);

function recordInstalls(io: object): { installs: [number, SessionStart][]; dropped: number[]; groups: Uint8Array[] } {
  const r = { installs: [] as [number, SessionStart][], dropped: [] as number[], groups: [] as Uint8Array[] };
  Object.assign(io, {
    installSession: (id: number, s: SessionStart) => void r.installs.push([id, s]),
    dropSession: (id: number) => void r.dropped.push(id),
    installGroup: (n: Uint8Array) => void r.groups.push(n),
  });
  return r;
}

t.test('the master welcomes with a fresh nonce and a cookie, installs the session keys, and waits for the cookie', async (t) => {
  const h = masterHarness({ ...V2, freshNonce: () => nonce(0xc0) });
  const rec = recordInstalls(h.io);
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(0xa0) }));
  const [w] = h.io.take('welcome');
  t.same(w?.msg.nonce, nonce(0xc0), 'WELCOME carries the master nonce');
  t.equal(w?.msg.cookie?.byteLength, 16, 'and a 16-byte cookie');
  t.equal(w?.msg.version, 2);
  t.same(
    rec.installs.map(([id, s]) => [id, s.secrets.helloNonce, s.secrets.welcomeNonce, s.secrets.remoteEpoch, s.secrets.masterEpoch, s.peerEpoch]),
    [[0, nonce(0xa0), nonce(0xc0), REMOTE_EPOCH, MASTER_EPOCH, REMOTE_EPOCH]],
    'keys from both nonces and both epochs',
  );
  t.equal(h.core.peerState(0), MasterPeerState.DOWN, 'not up before the cookie');
  t.same(h.io.states, [], 'nothing in ST');

  h.deliver({
    type: 'data',
    src: 0,
    dst: 0xffff,
    epoch: REMOTE_EPOCH,
    packetNumber: 3,
    flow: 'ro',
    seq: 100,
    batchId: 1,
    page: 0,
    offset: 0,
    payload: new Uint8Array(8),
  });
  t.equal(h.ro[0]!.receiver!.datagrams, 0, 'RO DATA before validation is not taken');
  t.match(h.io.drops, ['not-validated']);

  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { cookie: nonce(0x11) }));
  t.equal(h.core.peerState(0), MasterPeerState.DOWN, 'a wrong cookie validates nothing');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  t.equal(h.mo[0]!.ticks, 0, 'nor does a HEARTBEAT without one');

  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { cookie: w!.msg.cookie! }));
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'the echoed cookie validates the address');
  t.same(h.io.states, [[0, PeerState.UP]]);
  t.equal(h.mo[0]!.ticks, 1, 'and the full MO batch starts');
});

t.test('the cookie is bound to the session address: the same echo from another port does not validate', async (t) => {
  const h = masterHarness(V2);
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(1) }));
  const [w] = h.io.take('welcome');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { cookie: w!.msg.cookie! }), { ...REMOTE, port: REMOTE.port + 1 });
  t.equal(h.core.peerState(0), MasterPeerState.DOWN);
  t.match(h.io.drops, ['not-joined']);
});

t.test('a HELLO that offers version 2 without a NONCE is dropped unanswered', async (t) => {
  const h = masterHarness(V2);
  h.deliver(hello({ versionMin: 2, versionMax: 2 }));
  t.equal(h.io.take().length, 0, 'no answer');
  t.same(h.io.drops, ['decode-option']);
});

t.test('an unvalidated session never blocks a HELLO from elsewhere, and its end drops its keys', async (t) => {
  const h = masterHarness(V2);
  const rec = recordInstalls(h.io);
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(1) }), { address: '127.0.0.1', port: 50000 }); // a replayed HELLO
  h.io.take();
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(2), epoch: REMOTE_EPOCH + 1 }));
  t.equal(h.io.take('welcome').length, 1, 'the real remote is welcomed, not REJECT duplicate');
  t.same(rec.dropped, [0], "the pending session's keys are dropped");
  t.equal(rec.installs.length, 2);
});

t.test('the remote sends a fresh NONCE per epoch, installs the keys from WELCOME, and echoes the cookie at once', async (t) => {
  let n = 0;
  const h = remoteHarness({ ...V2, freshNonce: () => nonce(++n) });
  const rec = recordInstalls(h.io);
  const [first] = h.io.take('hello');
  t.same(first?.msg.nonce, nonce(1));
  h.advance(600);
  const [again] = h.io.take('hello');
  t.same(again?.msg.nonce, nonce(1), 'a retransmitted HELLO keeps its nonce');
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0), cookie: nonce(0xd0) }));
  await settle();
  t.equal(h.core.state, RemoteState.UP);
  t.same(
    rec.installs.map(([id, s]) => [id, s.secrets.helloNonce, s.secrets.welcomeNonce, s.peerEpoch]),
    [[0xffff, nonce(1), nonce(0xc0), MASTER_EPOCH]],
  );
  const beats = h.io.take('heartbeat');
  t.same(beats[0]?.msg.cookie, nonce(0xd0), 'a HEARTBEAT with the cookie right away');
  h.advance(100);
  t.same(h.io.take('heartbeat')[0]?.msg.cookie, nonce(0xd0), 'and in every HEARTBEAT after');
});

t.test('a second WELCOME of the same master while the remote still prepares for the first wins: its keys, its cookie, its MO start', async (t) => {
  // Seen under Wine: the remote stalled past the master's liveness with the first WELCOME
  // unanswered, its retransmitted HELLO opened a new session, and keys from the first
  // WELCOME failed authentication both ways until a REJECT not-joined made it join again.
  const h = remoteHarness({ ...V2, freshNonce: () => nonce(1) });
  const rec = recordInstalls(h.io);
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0), cookie: nonce(0xd0), moNextSeq: 7 }));
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc1), cookie: nonce(0xd1), moNextSeq: 900 }));
  await settle();
  t.equal(h.core.state, RemoteState.UP);
  t.same(
    rec.installs.map(([id, s]) => [id, s.secrets.welcomeNonce]),
    [[0xffff, nonce(0xc1)]],
    'one install, with the later NONCE',
  );
  t.same(h.io.take('heartbeat')[0]?.msg.cookie, nonce(0xd1), 'the HEARTBEAT echoes the later COOKIE');
  t.equal(h.mo.receiver?.expected, 900, "MO starts at the later WELCOME's MO Next Seq");
  t.equal(h.core.sessions, 1, 'one session');

  const other = remoteHarness({ ...V2, freshNonce: () => nonce(1) });
  const rec2 = recordInstalls(other.io);
  other.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0), cookie: nonce(0xd0) }));
  other.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc1), cookie: nonce(0xd1), epoch: MASTER_EPOCH + 1 }));
  await settle();
  t.same(
    rec2.installs.map(([, s]) => [s.secrets.welcomeNonce, s.peerEpoch]),
    [[nonce(0xc0), MASTER_EPOCH]],
    'a WELCOME of another master epoch does not replace the one being prepared for',
  );
});

t.test(
  'a WELCOME with another NONCE (the COOKIE may be the same) after the remote acted on the first, before any datagram of the session came, replaces the session',
  async (t) => {
    const h = remoteHarness({ ...V2, freshNonce: () => nonce(1) });
    const rec = recordInstalls(h.io);
    h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0), cookie: nonce(0xd0), moNextSeq: 7 }));
    await settle();
    t.equal(h.core.state, RemoteState.UP);
    h.io.take('heartbeat');
    h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0), cookie: nonce(0xd0), moNextSeq: 7 }));
    t.equal(rec.installs.length, 1, 'a copy of the WELCOME acted on changes nothing');
    // The master's cookie binds client id, remote epoch, HELLO NONCE and address: a new session for the same HELLO repeats it.
    h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc1), cookie: nonce(0xd0), moNextSeq: 900 }));
    t.equal(h.core.state, RemoteState.UP);
    t.same(
      rec.installs.map(([, s]) => s.secrets.welcomeNonce),
      [nonce(0xc0), nonce(0xc1)],
      'the keys of the new WELCOME',
    );
    t.same(rec.dropped, [0xffff], 'the old keys are dropped');
    t.same(h.io.take('heartbeat')[0]?.msg.cookie, nonce(0xd0), 'its COOKIE is echoed at once');
    t.equal(h.mo.receiver?.expected, 900, "MO restarts at the new WELCOME's MO Next Seq");
    t.equal(h.core.sessions, 1, 'the replaced session never carried a datagram: status still counts one session');

    // Once a datagram of the session came, its keys work: a WELCOME with another NONCE is no reason to drop them.
    h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH));
    h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc2), cookie: nonce(0xd2), moNextSeq: 5000 }));
    t.equal(rec.installs.length, 2, 'a confirmed session stays');
    t.equal(h.mo.receiver?.expected, 900);
  },
);

t.test('the remote drops a version-2 WELCOME without NONCE or COOKIE', async (t) => {
  const h = remoteHarness(V2);
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(1) }));
  await settle();
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.io.drops, ['decode-option']);
});

t.test('a NONCE that differs from the one acted on in its last byte only is another NONCE', async (t) => {
  const h = remoteHarness({ ...V2, freshNonce: () => nonce(1) });
  const rec = recordInstalls(h.io);
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0), cookie: nonce(0xd0) }));
  await settle();
  const other = nonce(0xc0);
  other[15] = 0xc1;
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: other, cookie: nonce(0xd0) }));
  t.same(
    rec.installs.map(([, s]) => s.secrets.welcomeNonce),
    [nonce(0xc0), other],
    'the session is replaced, under the keys of the new NONCE',
  );
});

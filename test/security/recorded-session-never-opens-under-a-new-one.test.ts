// Issue 19 finding 1, at the transport level: datagrams recorded from one session are
// dropped by a restarted master, whose new session has keys from a fresh WELCOME nonce.
// (The process-level replay into a restarted pdsm_master needs the session core wiring.)
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Logger } from '../../src/log.js';
import { Transport } from '../../src/daemon/transport.js';
import { NODE_MASTER } from '../../src/udp/constants.js';
import { freshNonce, PskKeys } from '../../src/udp/seal.js';
import type { Peer, UdpEndpoint } from '../../src/udp/socket.js';

const psk = new PskKeys(randomBytes(32));
const log = new Logger('test', 'error');
const from: Peer = { address: '127.0.0.1', port: 40000 };

function endpoint(out: Buffer[]): UdpEndpoint {
  return { onMessage: () => undefined, send: (b: Buffer) => out.push(b), sendNow: (b: Buffer) => out.push(b), queued: 0 } as unknown as UdpEndpoint;
}

function session(masterEpoch: number, remoteEpoch: number, helloNonce: Buffer) {
  const recorded: Buffer[] = [];
  const remote = new Transport(endpoint(recorded), log, remoteEpoch, { self: 0, acceptSrc: (s) => s === NODE_MASTER, psk });
  const master = new Transport(endpoint([]), log, masterEpoch, { self: NODE_MASTER, acceptSrc: (s) => s === 0, psk });
  const secrets = { clientId: 0, helloNonce, welcomeNonce: freshNonce(), remoteEpoch, masterEpoch };
  master.installSession(0, { keys: psk.sessionKeys(secrets, 'master'), peerEpoch: remoteEpoch, peer: from });
  remote.installSession(NODE_MASTER, { keys: psk.sessionKeys(secrets, 'remote'), peerEpoch: masterEpoch });
  return { remote, master, recorded };
}

t.test('a recorded session opens in its own session and is dropped whole by the next one', async (t) => {
  const helloNonce = freshNonce();
  const first = session(1000, 2000, helloNonce);
  for (let i = 0; i < 20; i++) {
    first.remote.send(
      { type: 'heartbeat', src: 0, dst: NODE_MASTER, epoch: 2000, timestamp: i, echo: null, wantBcUnicast: false, flows: [], cookie: null },
      from,
    );
  }
  t.equal(first.recorded.filter((b) => first.master.receive(b, from) !== undefined).length, 20, 'the live session opens all 20');
  t.equal(first.recorded.filter((b) => first.master.receive(b, from) !== undefined).length, 0, 'a replay into the same session is refused');
  // The master restarts (same epoch even, as if its state were lost); the replayed HELLO makes a new session.
  const second = session(1000, 2000, helloNonce);
  t.equal(first.recorded.filter((b) => second.master.receive(b, from) !== undefined).length, 0, 'no recorded datagram opens under the new session');
  t.equal(second.master.drops.get('auth-auth'), 20, 'each is dropped as failing authentication');
});

t.test('sealed HELLOs never repeat a (key, nonce) pair: each carries a fresh salt', async (t) => {
  const out: Buffer[] = [];
  const a = new Transport(endpoint(out), log, 7, { self: 0, acceptSrc: () => true, psk });
  const b = new Transport(endpoint(out), log, 7, { self: 0, acceptSrc: () => true, psk }); // a restart with the same epoch
  const hello = {
    type: 'hello' as const,
    src: 0,
    dst: NODE_MASTER,
    epoch: 7,
    versionMin: 2,
    versionMax: 2,
    mtu: 1200,
    pageSize: 1024,
    segSize: 4096,
    bcSize: 0,
    roNextSeq: 0,
    wordSize: 8 as const,
    hostname: null,
    nonce: freshNonce(),
    options: [],
  };
  a.send(hello, from);
  b.send(hello, from);
  t.equal(out[0]!.subarray(0, 24).toString('hex'), out[1]!.subarray(0, 24).toString('hex'), 'same header (epoch and packet number) after the restart');
  t.not(out[0]!.subarray(24, 40).toString('hex'), out[1]!.subarray(24, 40).toString('hex'), 'but another salt, so another key');
});

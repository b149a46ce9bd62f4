import t from 'tap';
import { encodeUnchecked } from '../../src/udp/codec.js';
import { PeerState } from '../../src/segments/status.js';
import { MasterPeerState } from '../../src/session/states.js';
import { REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

t.test('a retransmitted HELLO gets the same WELCOME and changes nothing', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  const [first] = h.io.take('welcome');
  t.ok(first, 'WELCOME sent');
  t.same(first!.to, REMOTE, "to the HELLO's address and port");
  t.equal(h.core.peerState(0), MasterPeerState.UP);
  t.same(h.io.states, [[0, PeerState.UP]]);
  h.clock.advance(400);
  h.deliver(hello()); // our WELCOME was lost
  const [again] = h.io.take('welcome');
  t.same({ ...again!.msg }, { ...first!.msg }, 'the same WELCOME, field for field');
  t.equal(h.mo[0]!.starts, 1, 'no new MO session');
  t.equal(h.ro[0]!.starts, 1, 'no new RO session');
  t.equal(h.core.peers(h.clock.now())[0]!.sessions, 1);
});

t.test("a session's first batches wait until its address is validated by a datagram of the session", async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  t.equal(h.mo[0]!.ticks, 0, 'no MO batch to an address that did not answer');
  h.advance(300);
  t.equal(h.mo[0]!.ticks, 0, 'scans skip it');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  t.equal(h.mo[0]!.ticks, 1, 'the full MO batch once the remote answered');
  h.advance(100);
  t.equal(h.mo[0]!.ticks, 2, 'then every scan');
  t.equal(h.core.peers(h.clock.now())[0]!.validated, true);
});

t.test('before validation the master sends a session at most three times the bytes it received from it', async (t) => {
  const h = masterHarness();
  h.core.handle(hello(), REMOTE, 20, h.clock.now()); // 20 bytes buy 60: less than one WELCOME
  t.equal(h.io.take('welcome').length, 0, 'the WELCOME would exceed the budget');
  h.core.handle(hello(), REMOTE, 60, h.clock.now()); // 80 bytes in, 240 may go out
  const [w] = h.io.take('welcome');
  t.ok(w, 'now it fits');
  const welcomeBytes = encodeUnchecked({ ...w!.msg, packetNumber: 0 }).byteLength;
  h.advance(1000);
  const beats = h.io.take('heartbeat');
  const bytes = beats.reduce((n, b) => n + encodeUnchecked({ ...b.msg, packetNumber: 0 }).byteLength, welcomeBytes);
  t.ok(beats.length > 0 && beats.length < 10, `heartbeats stop at the budget (${beats.length} of 10)`);
  t.ok(bytes <= 3 * 80, `${bytes} bytes out for 80 in`);
});

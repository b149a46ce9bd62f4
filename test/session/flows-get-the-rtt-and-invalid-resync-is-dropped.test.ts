import t from 'tap';
import type { Message } from '../../src/udp/codec.js';
import { stampUs } from '../../src/session/timers.js';
import { MASTER_EPOCH, REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

// issue 12, spec §7.9: the session core hands each peer link's smoothed RTT (spec §6.2) to
// the flow controller of every flow that sends to that peer; spec §6.4: a RESYNC the sender
// refuses (outside the segment) is dropped whole with a counted reason.

function resync(src: number, dst: number, epoch: number, flow: 'mo' | 'ro' | 'bc', firstPage: number, pageCount: number): Message {
  return { type: 'resync', src, dst, epoch, packetNumber: 5, flow, full: false, firstPage, pageCount };
}

/** A master with remote `id` joined and validated; the heartbeat timestamp it sent last. */
function joinedMaster(withBc = false) {
  const h = masterHarness({}, withBc);
  for (const id of withBc ? [0, 1] : [0]) {
    const from = { ...REMOTE, port: REMOTE.port + id };
    h.deliver(hello({ src: id, epoch: REMOTE_EPOCH + id }), from);
    h.deliver(heartbeat(id, 0xffff, REMOTE_EPOCH + id), from);
  }
  h.io.take();
  return h;
}

/** The remote's heartbeat echoing the master's, `rttMs` after the master stamped it. */
function echoAfter(h: ReturnType<typeof masterHarness>, id: number, rttMs: number): void {
  const stampedAt = h.clock.now();
  h.clock.advance(rttMs);
  h.deliver(heartbeat(id, 0xffff, REMOTE_EPOCH + id, { timestamp: 9, echo: { timestamp: stampUs(stampedAt), delay: 0 } }), {
    ...REMOTE,
    port: REMOTE.port + id,
  });
}

t.test('master: the RTT of a remote reaches the flow controller of its MO flow', async (t) => {
  const h = joinedMaster();
  echoAfter(h, 0, 30);
  const rtt = h.core.peers(h.clock.now())[0]!.rttMs;
  t.equal(rtt, 30, 'the link measured 30 ms');
  t.same(h.mo[0]!.sender!.rtts, [30], 'the MO sender was told');
  echoAfter(h, 0, 70);
  t.equal(h.mo[0]!.sender!.rtts.length, 2, 'told again on the next sample');
  t.equal(h.mo[0]!.sender!.rtts[1], h.core.peers(h.clock.now())[0]!.rttMs, 'the smoothed value, not the raw sample');
  t.not(h.mo[0]!.sender!.rtts[1], 70);
});

t.test('master: the shared BC flow follows the slowest remote', async (t) => {
  const h = joinedMaster(true);
  echoAfter(h, 0, 40);
  t.same(h.bc!.sender!.rtts, [40]);
  echoAfter(h, 1, 10);
  t.same(h.bc!.sender!.rtts, [40, 40], 'a faster remote does not shorten it');
  t.same(h.mo[1]!.sender!.rtts, [10], 'but sets its own MO flow');
});

t.test('remote: the RTT to the master reaches the flow controller of its RO flow', async (t) => {
  const h = remoteHarness();
  h.deliver(welcome(REMOTE_EPOCH));
  await settle();
  const stampedAt = h.clock.now();
  h.clock.advance(25);
  h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH, { timestamp: 3, echo: { timestamp: stampUs(stampedAt), delay: 5000 } }));
  t.equal(h.core.session?.rttMs, 20, '25 ms less the 5 ms the master held it');
  t.same(h.ro.sender!.rtts, [20]);
});

t.test('master: a RESYNC its MO sender refuses is dropped with a reason; one it takes is not', async (t) => {
  const h = joinedMaster();
  const sender = h.mo[0]!.sender!;
  h.deliver(resync(0, 0xffff, REMOTE_EPOCH, 'mo', 1, 2));
  t.same(sender.resyncs, [[1, 2, false]]);
  t.same(h.io.drops, [], 'a valid RESYNC is answered, not dropped');
  sender.acceptResync = false;
  h.deliver(resync(0, 0xffff, REMOTE_EPOCH, 'mo', 3, 100));
  t.same(h.io.drops, ['invalid-resync']);
});

t.test('remote: a RESYNC its RO sender refuses is dropped with a reason', async (t) => {
  const h = remoteHarness();
  h.deliver(welcome(REMOTE_EPOCH));
  await settle();
  h.ro.sender!.acceptResync = false;
  h.deliver(resync(0xffff, 0, MASTER_EPOCH, 'ro', 0, 0));
  t.same(h.ro.sender!.resyncs, [[0, 0, false]]);
  t.same(h.io.drops, ['invalid-resync']);
});

// spec §8.1-§8.4: the master's shared BC stream (src/session/master-bc.ts) as the session core
// drives it: how the flow is started, who gets each datagram, where a repair goes and how big
// it may be, the BC digest, and the log line of a remote moving to unicast fallback.
import t from 'tap';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { maxDataPayload } from '../../src/udp/codec.js';
import { hashesPerDigest, type OutPort } from '../../src/session/link.js';
import { MASTER_EPOCH, REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

const OTHER = { address: '127.0.0.2', port: 40001 };
const GROUP = { address: '239.1.2.3', port: 31416 };
const TIMERS = { heartbeatMs: 100, livenessMs: 100_000, digestMs: 500 };

const data: DataMessage = {
  type: 'data',
  src: 0xffff,
  dst: 0xfffe,
  epoch: MASTER_EPOCH,
  packetNumber: 0,
  flow: 'bc',
  seq: 1,
  batchId: 1,
  page: 0,
  offset: 0,
  payload: new Uint8Array(8),
};

/** A master with BC (and `group`), remote 0 validated, remote 1 joined but not validated. */
function master(group?: typeof GROUP) {
  const h = masterHarness({ timers: TIMERS, ...(group ? { group } : {}) }, true);
  h.deliver(hello({ src: 0, epoch: REMOTE_EPOCH }));
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.deliver(hello({ src: 1, epoch: REMOTE_EPOCH + 1, mtu: 576 }), OTHER);
  h.io.take();
  return h;
}

t.test('the BC flow starts from the master to all, with the master geometry and a random first seq', async (t) => {
  const h = masterHarness({}, true);
  const s = h.bc!.lastStart!;
  t.same(
    { src: s.src, dst: s.dst, epoch: s.epoch, firstSeq: s.firstSeq, geometry: s.geometry, sealed: s.sealed },
    { src: 0xffff, dst: 0xfffe, epoch: MASTER_EPOCH, firstSeq: 0xfffffff0, geometry: { pageSize: 1024, wordSize: 8, mtu: 1200 }, sealed: false },
  );
  t.equal(s.clock, h.config.clock);
  t.equal(h.core.bcMode, 'unicast', 'no group: BC Mode 1, fan-out');
  t.equal(masterHarness({ group: GROUP }, true).core.bcMode, 'multicast');
  t.equal(masterHarness().core.bcMode, 'none');
});

t.test('a validated session owes one FULL batch, sent on the next tick of the flow', async (t) => {
  const h = masterHarness({}, true);
  h.deliver(hello({ src: 0, epoch: REMOTE_EPOCH }));
  t.equal(h.bc!.fullOwed, 0, 'not before it is validated');
  const ticks = h.bc!.ticks;
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  t.equal(h.bc!.fullOwed, 1);
  t.equal(h.bc!.ticks, ticks + 1, 'and the flow ticked at once');
});

t.test('fan-out: each validated session by unicast with Dst = its id; nothing to one not validated', async (t) => {
  const h = master();
  h.bc!.lastStart!.emit(data);
  const sent = h.io.take();
  t.same(
    sent.map((s) => [s.to, s.msg.dst]),
    [[REMOTE, 0]],
  );
  t.equal(data.dst, 0xfffe, 'the datagram handed in is not changed');
});

t.test('multicast: once to the group with Dst = all, and not to each remote', async (t) => {
  const h = master(GROUP);
  h.bc!.lastStart!.emit(data);
  t.same(
    h.io.take().map((s) => [s.to, s.msg.dst]),
    [[GROUP, 0xfffe]],
  );
});

/** Remote 0's NACK of BC: what the core handed the sender as repair and limit. */
function nackBc(h: ReturnType<typeof master>) {
  let got: { repair?: (m: DataMessage | CommitMessage) => void; limit?: () => number } = {};
  h.bc!.sender!.onNack = (_r, repair, limit) => void (got = { repair: repair as typeof got.repair, limit: limit as typeof got.limit });
  h.deliver({ type: 'nack', src: 0, dst: 0xffff, epoch: REMOTE_EPOCH, packetNumber: 3, flow: 'bc', ranges: [{ first: 1, count: 1 }] });
  return got;
}

t.test('fan-out repairs go to the NACKer alone, cut for its own MTU', async (t) => {
  const h = master();
  const { repair, limit } = nackBc(h);
  repair!(data);
  t.same(
    h.io.take().map((s) => [s.to, s.msg.dst]),
    [[REMOTE, 0]],
  );
  t.equal(limit!(), maxDataPayload(1200, 8, false), "its session's 1200, not the stream's 576");
});

t.test('multicast repairs go to the group, cut for the group; in fallback by unicast, cut for the session', async (t) => {
  const h = master(GROUP);
  const { repair, limit } = nackBc(h);
  repair!(data);
  t.same(
    h.io.take().map((s) => [s.to, s.msg.dst]),
    [[GROUP, 0xfffe]],
  );
  t.equal(limit!(), maxDataPayload(576, 8, false), 'the smallest member of the group');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { wantBcUnicast: true }));
  h.io.take();
  repair!(data);
  t.same(
    h.io.take().map((s) => [s.to, s.msg.dst]),
    [[REMOTE, 0]],
    'the same repair function follows the fallback',
  );
  t.equal(limit!(), maxDataPayload(1200, 8, false));
});

t.test('the BC digest: the hashes of BC as last sent, in chunks for the stream MTU, to every validated session', async (t) => {
  const h = master();
  const asked: [number, number][] = [];
  (h.bc as OutPort).digest = (wordSize, perChunk) => {
    asked.push([wordSize, perChunk]);
    return [
      { batchId: 3, firstPage: 0, hashes: new BigUint64Array([1n]) },
      { batchId: 3, firstPage: 1, hashes: new BigUint64Array([2n]) },
    ];
  };
  h.advance(TIMERS.digestMs);
  t.same(asked, [[8, hashesPerDigest(576, false)]], "cut for the stream's 576, the smallest session");
  const digests = h.io.take('digest').filter((s) => s.msg.flow === 'bc');
  t.same(
    digests.map((s) => [s.to, s.msg.src, s.msg.dst, s.msg.epoch, s.msg.batchId, s.msg.firstPage, [...s.msg.hashes]]),
    [
      [REMOTE, 0xffff, 0, MASTER_EPOCH, 3, 0, [1n]],
      [REMOTE, 0xffff, 0, MASTER_EPOCH, 3, 1, [2n]],
    ],
  );
});

t.test('WANT_BC_UNICAST moves a remote to unicast once, with one warning naming every remote in fallback', async (t) => {
  const h = master(GROUP);
  h.deliver(heartbeat(1, 0xffff, REMOTE_EPOCH + 1, { wantBcUnicast: true }), OTHER);
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { wantBcUnicast: true }));
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { wantBcUnicast: true }));
  const warns = h.io.logs.filter((l) => /by unicast/.test(l.text));
  t.same(
    warns.map((l) => [l.level, l.text, l.fields]),
    [
      ['warn', 'remote gets no multicast; sending it BC by unicast', { client: 1, address: '127.0.0.2:40001', unicast_remotes: '1' }],
      ['warn', 'remote gets no multicast; sending it BC by unicast', { client: 0, address: '127.0.0.1:40000', unicast_remotes: '0,1' }],
    ],
  );
  t.same(
    h.core.peers(h.clock.now()).map((p) => p.bcUnicast),
    [true, true],
  );
});

t.test('without a group WANT_BC_UNICAST changes nothing: fan-out is unicast already', async (t) => {
  const h = master();
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { wantBcUnicast: true }));
  t.same(
    h.io.logs.filter((l) => /by unicast/.test(l.text)),
    [],
  );
  h.io.take();
  h.bc!.lastStart!.emit(data);
  t.same(
    h.io.take().map((s) => s.to),
    [REMOTE],
  );
});

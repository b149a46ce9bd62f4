// What the master's onTimeout does with its three duties (scan, heartbeat, digest), how it
// treats its own stalls (spec §7.10: lateness beyond STALL_TOLERANCE_MS is credited to every
// peer's silence, and logged at most every 10 s), what its HEARTBEATs and WELCOMEs carry,
// the anti-amplification budget before validation (spec §4.6, §13) counted in wire bytes,
// and the flows' feedback paths. Found by mutation testing (issue 18).
import t from 'tap';
import { STALL_TOLERANCE_MS } from '../../src/session/link.js';
import { MasterPeerState } from '../../src/session/states.js';
import { encodeUnchecked, type Message } from '../../src/udp/codec.js';
import { HANDSHAKE_SALT_SIZE, TAG_SIZE } from '../../src/udp/constants.js';
import { REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

const STALL_LOG = 'this daemon did not run for a while; liveness deadlines extended by as much';
const nonce = (b: number) => new Uint8Array(16).fill(b);

/** Call onTimeout at each deadline `lateMs` after it is due, up to `ms` from now. */
function driveLate(h: ReturnType<typeof masterHarness>, ms: number, lateMs: number): void {
  const end = h.clock.now() + ms;
  for (let i = 0; i < 10_000 && h.core.nextDeadline() + lateMs <= end; i++) {
    h.clock.advance(Math.max(0, h.core.nextDeadline() + lateMs - h.clock.now()));
    h.core.onTimeout(h.clock.now(), false);
  }
}

t.test('scan and heartbeat keep their own periods: 4 scans and 10 HEARTBEATs in a second at -i 250', async (t) => {
  const h = masterHarness({ intervalMs: 250 });
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH)); // validated
  const ticks = h.mo[0]!.ticks;
  h.io.take();
  for (let i = 0; i < 10; i++) {
    h.advance(100);
    h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH)); // keep it alive
  }
  t.equal(h.mo[0]!.ticks - ticks, 4, 'a scan at 250, 500, 750, 1000');
  const start = h.clock.now() - 1000;
  t.same(
    h.io.take('heartbeat').map((b) => b.msg.timestamp),
    Array.from({ length: 10 }, (_, i) => ((start + 100 * (i + 1)) * 1000) >>> 0),
    'a HEARTBEAT every 100 ms, on its own schedule (none at a scan’s 250 or 750)',
  );
});

t.test('a HEARTBEAT names the MO and BC highest sequence numbers sent, never asks for BC by unicast', async (t) => {
  const h = masterHarness({}, true);
  h.deliver(hello());
  h.io.take();
  h.mo[0]!.sender!.highestSeq = 41;
  h.bc!.sender!.highestSeq = 77;
  h.advance(100);
  const [b] = h.io.take('heartbeat');
  t.match(b?.msg, { dst: 0, wantBcUnicast: false });
  t.same(b?.msg.flows, [
    { flow: 'mo', highestSeq: 41 },
    { flow: 'bc', highestSeq: 77 },
  ]);
  h.mo[0]!.sender = undefined; // MO not started (yet): the number before the session's first
  h.advance(100);
  t.same(h.io.take('heartbeat')[0]?.msg.flows[0], { flow: 'mo', highestSeq: 0xffffffef }, 'MO Next Seq - 1');
  const plain = masterHarness();
  plain.deliver(hello());
  plain.io.take();
  plain.advance(100);
  t.same(
    plain.io.take('heartbeat')[0]?.msg.flows.map((f) => f.flow),
    ['mo'],
    'no BC entry without BC',
  );
});

t.test('the BC flow is scanned only while some session is validated', async (t) => {
  const h = masterHarness({}, true);
  h.advance(1000);
  t.equal(h.bc!.ticks, 0, 'no session: no BC scan');
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  const after = h.bc!.ticks;
  h.advance(100);
  t.equal(h.bc!.ticks, after + 1, 'one BC scan per interval once a session is validated');
  t.equal(h.core.scanTimes.list().at(-1), 0, 'and its time is what the (fake) clock says the scan took: 0 ms');
});

t.test('DIGESTs go each Digest Period to validated sessions, not while this daemon still has datagrams queued', async (t) => {
  const h = masterHarness({ timers: { ...masterHarness().config.timers, digestMs: 1000 } }, true);
  const chunk = { batchId: 5, firstPage: 0, hashes: new BigUint64Array([1n, 2n]) };
  h.mo[0]!.digest = () => [chunk];
  h.mo[1]!.digest = () => [chunk];
  let bcDigests = 0;
  h.bc!.digest = () => (bcDigests++, []);
  h.advance(1000);
  t.same(h.io.take('digest'), [], 'no session: no DIGEST');
  t.equal(bcDigests, 0, 'nor a BC digest');
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  for (let i = 0; i < 10; i++) {
    h.advance(100, true); // a backlog at every deadline
    h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  }
  t.same(h.io.take('digest'), [], 'a backlog: the digest waits for the next period');
  for (let i = 0; i < 10; i++) {
    h.advance(100);
    h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  }
  const digests = h.io.take('digest');
  t.same(
    digests.map((d) => [d.msg.dst, d.msg.flow, d.msg.batchId, d.to.port]),
    [[0, 'mo', 5, REMOTE.port]],
    "client 0's MO digest, to client 0 only",
  );
  t.ok(bcDigests >= 1, 'and the BC digest');
});

t.test(`lateness up to STALL_TOLERANCE_MS (${STALL_TOLERANCE_MS} ms) is not this daemon's stall: a silent peer ends on time`, async (t) => {
  const h = masterHarness();
  h.deliver(hello()); // heard at 0; silent from then on
  // Every deadline (100, 200, ... ms) served STALL_TOLERANCE_MS late. Credited, the
  // lateness would add up to 200 ms by the tenth heartbeat and keep the remote up past 1020.
  driveLate(h, 1000 + STALL_TOLERANCE_MS, STALL_TOLERANCE_MS);
  t.same(
    h.io.logs.filter((l) => l.text === 'remote down').map((l) => l.fields.reason),
    ['silent past the liveness timeout'],
    `down at the heartbeat of 1000 + ${STALL_TOLERANCE_MS} ms: no credit`,
  );
  t.same(
    h.io.logs.filter((l) => l.text === STALL_LOG),
    [],
    'and no stall warning',
  );
});

t.test('a stall is credited to every peer and logged with its length, at most once per 10 s', async (t) => {
  const h = masterHarness({ timers: { ...masterHarness().config.timers, digestMs: 1000 } });
  h.deliver(hello());
  h.clock.advance(5000); // no deadline served for 5 s: the scan and heartbeat were due at 100, the digest at 1000
  h.core.onTimeout(h.clock.now(), false);
  t.same(
    h.io.logs.filter((l) => l.text === STALL_LOG).map((l) => [l.level, l.fields]),
    [['warn', { stall_ms: 4900 }]],
    'the stall counts from the earliest duty due',
  );
  t.equal(h.core.peerState(0), MasterPeerState.UP, 'the silent remote is not blamed for our 5 s');
  h.clock.advance(100);
  h.core.onTimeout(h.clock.now(), false);
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  // A second stall 4.9 s later: credited, not logged (the last log was at 5000).
  h.clock.advance(4900);
  h.core.onTimeout(h.clock.now(), false);
  t.equal(h.io.logs.filter((l) => l.text === STALL_LOG).length, 1, 'a second stall within 10 s: not logged again');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.advance(100); // now 5100 after the first log
  h.clock.advance(4900); // the next stall ends exactly 10 s after the first log
  h.core.onTimeout(h.clock.now(), false);
  t.equal(h.io.logs.filter((l) => l.text === STALL_LOG).length, 2, '10 s after the first: logged again');
});

t.test('a stall of exactly one heartbeat period is logged; a shorter one (past the tolerance) is only credited', async (t) => {
  const short = masterHarness();
  short.deliver(hello());
  short.clock.advance(100 + 99); // due at 100, served 99 ms late
  short.core.onTimeout(short.clock.now(), false);
  t.same(
    short.io.logs.filter((l) => l.text === STALL_LOG),
    [],
    '99 ms: no warning',
  );
  const exact = masterHarness();
  exact.deliver(hello());
  exact.clock.advance(100 + 100);
  exact.core.onTimeout(exact.clock.now(), false);
  t.same(
    exact.io.logs.filter((l) => l.text === STALL_LOG).map((l) => l.fields),
    [{ stall_ms: 100 }],
    '100 ms (Heartbeat Ms): a warning',
  );
});

t.test('once closing, onTimeout does nothing and a second close() sends no second GOODBYE', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  h.core.close();
  t.equal(h.io.take('goodbye').length, 1);
  const ticks = h.mo[0]!.ticks;
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.same(h.io.take(), [], 'no HEARTBEAT, no scan, no stall line after close');
  t.equal(h.mo[0]!.ticks, ticks);
  t.same(
    h.io.logs.filter((l) => l.text === STALL_LOG),
    [],
  );
  h.core.close();
  t.same(h.io.take(), [], 'close() again: nothing');
  t.equal(h.mo[0]!.ticks, ticks, 'and no second last scan');
});

t.test('before validation the master sends at most 3x what it received, counted with the seal it adds (spec §4.6)', async (t) => {
  // Sealed version 2: a WELCOME costs its encoding + salt + tag, a HEARTBEAT its encoding + tag.
  const run = (helloBytes: number) => {
    const h = masterHarness({ versions: { min: 2, max: 2 }, sealed: true, freshNonce: () => nonce(9) });
    h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(1) }), REMOTE, helloBytes);
    const [w] = h.io.take('welcome');
    h.advance(900); // nine heartbeat deadlines, within liveness
    return { w: w?.msg, beats: h.io.take('heartbeat').map((b) => b.msg) };
  };
  const probe = run(10_000);
  t.ok(probe.w, 'a WELCOME');
  t.equal(probe.beats.length, 9, 'with room: a HEARTBEAT at each of the nine deadlines');
  const wBytes = encodeUnchecked({ ...probe.w!, packetNumber: 0 } as Message).byteLength + TAG_SIZE + HANDSHAKE_SALT_SIZE;
  const hBytes = encodeUnchecked({ ...probe.beats[0]!, packetNumber: 0 } as Message).byteLength + TAG_SIZE;
  // Received bytes R with 3R >= W + 4H > 3R - 3: room for the WELCOME and four HEARTBEATs, not
  // a fifth (H > 3). One byte of R less leaves 3R < W + 4H: three.
  const fits = run(Math.ceil((wBytes + 4 * hBytes) / 3));
  t.equal(fits.beats.length, 4, `${Math.ceil((wBytes + 4 * hBytes) / 3)} bytes received: the WELCOME (${wBytes} B) and four HEARTBEATs (${hBytes} B each)`);
  const short = run(Math.ceil((wBytes + 4 * hBytes) / 3) - 1);
  t.equal(short.beats.length, 3, 'a byte less: three');
});

t.test('after validation the budget no longer applies', async (t) => {
  const h = masterHarness({ versions: { min: 2, max: 2 } });
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(1) }), REMOTE, 40);
  const [w] = h.io.take('welcome');
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { cookie: w!.msg.cookie! }), REMOTE, 40);
  h.io.take();
  h.advance(900);
  t.equal(h.io.take('heartbeat').length, 9, '80 bytes received, yet nine HEARTBEATs of ~40 bytes and more');
});

t.test('WELCOME: BC Next Seq is where the shared stream goes on; the group nonce only for a version-2 session of a multicast master', async (t) => {
  const group = { address: '239.1.2.3', port: 31416 };
  let drawn = 0;
  const draw = () => (drawn++, nonce(0x40 + drawn));
  const h = masterHarness({ versions: { min: 1, max: 2 }, group, freshNonce: draw }, true);
  t.equal(drawn, 1, 'the group nonce is drawn once, at start');
  h.bc!.sender!.highestSeq = 500;
  h.deliver(hello({ versionMin: 2, versionMax: 2, nonce: nonce(1) }));
  const [w2] = h.io.take('welcome');
  t.equal(w2?.msg.bcNextSeq, 501, 'BC Next Seq: the BC highest sent + 1');
  t.same(w2?.msg.groupNonce, nonce(0x41), 'version 2: the group nonce');
  h.deliver(hello({ src: 1, epoch: REMOTE_EPOCH + 1 }), { ...REMOTE, port: REMOTE.port + 1 });
  const [w1] = h.io.take('welcome');
  t.match(w1?.msg, { version: 1, groupNonce: null }, 'version 1: none');
  for (const [name, cfg, bc] of [
    ['no group', { versions: { min: 1, max: 2 } }, true],
    ['no BC', { versions: { min: 1, max: 2 }, group }, false],
    ['version 1 only', { versions: { min: 1, max: 1 }, group }, true],
  ] as const) {
    let n = 0;
    const m = masterHarness({ ...cfg, freshNonce: () => (n++, nonce(7)) }, bc);
    t.equal(n, 0, `${name}: no group nonce drawn`);
    m.deliver(hello({ versionMin: 1, versionMax: 2, nonce: nonce(2) }));
    t.equal(m.io.take('welcome')[0]?.msg.groupNonce ?? null, null, `${name}: none in the WELCOME`);
  }
});

t.test('the flows’ feedback: RO NACKs and RESYNCs and MO datagrams go to the session’s address', async (t) => {
  const h = masterHarness();
  let roStart: { sendNack(r: { first: number; count: number }[]): void; requestResync(f: number, c: number, full: boolean): void } | undefined;
  const ro = h.ro[0]!;
  const start = ro.start.bind(ro);
  ro.start = (o: Parameters<typeof ro.start>[0]) => {
    roStart = o as never;
    start(o);
  };
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  roStart!.sendNack([{ first: 3, count: 2 }]);
  roStart!.requestResync(1, 2, false);
  h.mo[0]!.lastStart!.emit({
    type: 'commit',
    src: 0xffff,
    dst: 0,
    epoch: 0,
    packetNumber: 0,
    flow: 'mo',
    seq: 9,
    batchId: 1,
    dataCount: 0,
    pageCount: 0,
    replaces: false,
    full: false,
  });
  t.same(
    h.io.take().map((s) => [s.msg.type, s.to, 'flow' in s.msg ? s.msg.flow : '-']),
    [
      ['nack', REMOTE, 'ro'],
      ['resync', REMOTE, 'ro'],
      ['commit', REMOTE, 'mo'],
    ],
  );
});

t.test('a digest of RO that finds divergent pages is logged with the client', async (t) => {
  const h = masterHarness();
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.ro[0]!.onDigest = () => [3, 4];
  h.deliver({ type: 'digest', src: 0, dst: 0xffff, epoch: REMOTE_EPOCH, packetNumber: 5, flow: 'ro', batchId: 1, firstPage: 0, hashes: new BigUint64Array(4) });
  t.same(
    h.io.logs.filter((l) => l.text === 'digest found divergent pages; resyncing them').map((l) => l.fields),
    [{ client: 0, flow: 'ro', pages: 2 }],
  );
});

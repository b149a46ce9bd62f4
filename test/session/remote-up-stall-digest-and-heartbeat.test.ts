// spec §6.2, §7.8, §7.11: a remote's UP duties as its core does them: the stall warning (this
// daemon did not run; not the master's fault), the RO digest, and the heartbeat it sends.
import t from 'tap';
import type { OutPort } from '../../src/session/link.js';
import { hashesPerDigest } from '../../src/session/link.js';
import { RemoteState } from '../../src/session/states.js';
import { stampUs } from '../../src/session/timers.js';
import { MASTER_EPOCH, REMOTE_EPOCH, heartbeat, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

const STALL = 'this daemon did not run for a while; liveness deadlines extended by as much';

async function up(overrides: Parameters<typeof remoteHarness>[0] = {}, w: Parameters<typeof welcome>[1] = {}) {
  const h = remoteHarness(overrides);
  h.deliver(welcome(REMOTE_EPOCH, w));
  await settle();
  h.io.take();
  return h;
}

t.test('a stall of the remote is logged at once, then at most every 10 s, and the master is not blamed', async (t) => {
  const h = await up({}, { heartbeatMs: 250 });
  const stalls = () => h.io.logs.filter((l) => l.text === STALL).map((l) => [l.level, l.fields]);
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.same(stalls(), [['warn', { stall_ms: 4900 }]], 'the scan was due 100 ms after UP (the heartbeat at 250): 4.9 s late');
  t.equal(h.core.state, RemoteState.UP, 'liveness (1 s) was extended by the stall');
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.equal(stalls().length, 1, '5 s later: not logged again');
  t.equal(h.core.state, RemoteState.UP);
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.equal(stalls().length, 2, '10 s after the first: logged again');
});

t.test('a delay shorter than a heartbeat is not logged; a whole heartbeat is', async (t) => {
  for (const [late, logged] of [
    [99, []],
    [100, [{ stall_ms: 100 }]],
  ] as const) {
    const h = await up();
    h.clock.advance(100 + late); // scan and heartbeat were due 100 ms after UP
    h.core.onTimeout(h.clock.now(), false);
    t.same(
      h.io.logs.filter((l) => l.text === STALL).map((l) => l.fields),
      logged,
      `${late} ms late, heartbeat 100 ms`,
    );
  }
});

t.test('the RO digest goes to the master every digest period, cut for the session MTU', async (t) => {
  const h = await up({ digestMs: 700, mtu: 1200 }, { mtu: 900 });
  t.equal(h.core.timers.digestMs, 700, "the remote's own digest period survives WELCOME");
  const asked: [number, number][] = [];
  (h.ro as OutPort).digest = (wordSize, perChunk) => {
    asked.push([wordSize, perChunk]);
    return [{ batchId: 4, firstPage: 2, hashes: new BigUint64Array([7n]) }];
  };
  h.advance(699);
  t.equal(h.io.take('digest').length, 0);
  h.advance(1);
  const digests = h.io.take('digest');
  t.same(asked, [[8, hashesPerDigest(900, false)]], 'the smaller of both MTUs');
  t.same(
    digests.map((d) => [d.msg.src, d.msg.dst, d.msg.epoch, d.msg.flow, d.msg.batchId, d.msg.firstPage, [...d.msg.hashes]]),
    [[0, 0xffff, REMOTE_EPOCH, 'ro', 4, 2, [7n]]],
  );
});

t.test('without -D the digest period is 30 s', async (t) => {
  t.equal(remoteHarness().core.timers.digestMs, 30_000);
});

t.test("status's last-heard age: none before the master spoke, then of the session's last datagram", async (t) => {
  const h = remoteHarness();
  t.equal(h.core.lastHeardMsAgo(h.clock.now()), undefined, 'never heard');
  h.deliver(welcome(REMOTE_EPOCH));
  await settle();
  h.clock.advance(300);
  t.equal(h.core.lastHeardMsAgo(h.clock.now() + 0.4), 300, 'rounded to the ms');
  h.deliver(welcome(REMOTE_EPOCH + 1)); // stale: not a datagram of the session
  t.same(h.io.drops, ['stale-welcome']);
  t.equal(h.core.lastHeardMsAgo(h.clock.now() + 200), 500);
});

t.test('UP: the RO flow is ticked once per scan interval, heartbeats go every Heartbeat Ms, and no HELLO', async (t) => {
  const h = await up({ intervalMs: 100 }, { heartbeatMs: 250, livenessMs: 5000 });
  t.equal(h.ro.ticks, 1, 'the full batch at UP');
  const at: number[] = [];
  const tick = h.ro.tick.bind(h.ro);
  h.ro.tick = () => void (at.push(h.clock.now() - 1000), tick());
  h.advance(900);
  t.same(at, [100, 200, 300, 400, 500, 600, 700, 800, 900], 'a scan every 100 ms after UP, none on the heartbeat deadlines');
  const sent = h.io.take().map((s) => s.msg.type);
  t.equal(sent.filter((x) => x === 'heartbeat').length, 3, 'heartbeats at 250, 500 and 750 ms');
  t.equal(sent.filter((x) => x === 'hello').length, 0, 'no HELLO while UP');
});

/** Call every deadline `late` ms after it is due, up to `until` (absolute), as a daemon running late would. */
function runLate(h: ReturnType<typeof remoteHarness>, late: number, until: number): void {
  for (let i = 0; i < 1000 && h.core.nextDeadline() + late <= until; i++) {
    h.clock.advance(h.core.nextDeadline() + late - h.clock.now());
    h.core.onTimeout(h.clock.now(), false);
  }
}

t.test('timer jitter up to 20 ms does not extend liveness; a longer delay does, by as much', async (t) => {
  const h = await up({}, { heartbeatMs: 100, livenessMs: 1000 }); // UP at 1000, nothing heard after
  runLate(h, 20, 1950);
  t.equal(h.core.state, RemoteState.UP, 'silent 920 ms at the last heartbeat');
  runLate(h, 20, 2020);
  t.equal(h.core.state, RemoteState.JOINING, 'the heartbeat due at 2000, run at 2020: silent 1020 ms, past liveness');
  t.same(
    h.io.logs.filter((l) => l.text === 'master down; joining again').map((l) => l.fields),
    [{ master: '127.0.0.1:31415', reason: 'master silent past the liveness timeout', epoch: REMOTE_EPOCH + 1 }],
  );
  const slow = await up({}, { heartbeatMs: 100, livenessMs: 1000 });
  runLate(slow, 21, 2021);
  t.equal(slow.core.state, RemoteState.UP, '21 ms late each time: those 21 ms do not count as silence');
});

t.test('a digest due while datagrams wait to be sent is skipped', async (t) => {
  const h = await up({ digestMs: 700 }, { livenessMs: 5000 });
  let asked = 0;
  (h.ro as OutPort).digest = () => (asked++, []);
  h.advance(700, true);
  t.equal(asked, 0, 'backlog: no digest');
  h.advance(700);
  t.equal(asked, 1, 'the next period, without backlog');
});

t.test('a remote woken late while JOINING just says HELLO', async (t) => {
  const h = remoteHarness();
  h.io.take();
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.equal(h.io.take('hello').length, 1);
  t.equal(h.core.state, RemoteState.JOINING);
});

t.test('each periodic scan ticks RO once, timed on the clock; none while JOINING', async (t) => {
  const joining = remoteHarness();
  joining.core.scanOnce();
  joining.advance(1000);
  t.equal(joining.ro.ticks, 0, 'no RO flow to tick');
  t.equal(joining.core.scanTimes.count, 0);
  const h = await up();
  const reported: number[] = [];
  (h.io as { scanned(ms: number): void }).scanned = (ms) => void reported.push(ms);
  h.ro.tick = () => void h.clock.advance(7);
  h.advance(100);
  t.same(h.core.scanTimes.list(), [7], 'the scan took 7 ms');
  t.same(reported, [7]);
  t.equal(h.core.scanTimes.count, 1);
});

t.test("the heartbeat: RO's highest seq, the clock stamp, the echo of the master's last heartbeat", async (t) => {
  const h = await up();
  h.advance(100);
  const [first] = h.io.take('heartbeat');
  t.same(first?.msg, {
    type: 'heartbeat',
    src: 0,
    dst: 0xffff,
    epoch: REMOTE_EPOCH,
    timestamp: stampUs(h.clock.now()),
    echo: null,
    wantBcUnicast: false,
    flows: [{ flow: 'ro', highestSeq: h.ro.sender!.highestSeq }],
    cookie: null,
  });
  h.ro.sender!.highestSeq = 41;
  h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH, { timestamp: 77 }));
  h.advance(100);
  const [second] = h.io.take('heartbeat');
  t.same(second?.msg.echo, { timestamp: 77, delay: 100_000 }, 'held until the next heartbeat, 100 ms, in us');
  t.same(second?.msg.flows, [{ flow: 'ro', highestSeq: 41 }]);
});

t.test('BC Mode 1 (unicast): no multicast to miss, so the remote never asks for BC by unicast', async (t) => {
  const h = remoteHarness();
  h.withBc();
  h.deliver(welcome(REMOTE_EPOCH, { bcMode: 'unicast', bcSize: 4096, livenessMs: 60_000 }));
  await settle();
  for (let seq = 10; seq < 60; seq++) {
    h.advance(100);
    h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH, { flows: [{ flow: 'bc', highestSeq: seq }] }));
  }
  t.ok(
    h.io.take('heartbeat').every((b) => !b.msg.wantBcUnicast),
    'WANT_BC_UNICAST never set',
  );
  t.same(
    h.io.logs.filter((l) => /no multicast/.test(l.text)),
    [],
  );
});

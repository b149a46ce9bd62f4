// spec §6.2, §7.8, §7.11: a remote's UP duties as its core does them: the stall warning (this
// daemon did not run; not the master's fault), the RO digest, and the heartbeat it sends.
import t from 'tap';
import type { OutPort } from '../../src/session/link.js';
import { hashesPerDigest } from '../../src/session/link.js';
import { RemoteState } from '../../src/session/states.js';
import { REMOTE_EPOCH, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

const STALL = 'this daemon did not run for a while; liveness deadlines extended by as much';

async function up(overrides: Parameters<typeof remoteHarness>[0] = {}, w: Parameters<typeof welcome>[1] = {}) {
  const h = remoteHarness(overrides);
  h.deliver(welcome(REMOTE_EPOCH, w));
  await settle();
  h.io.take();
  return h;
}

t.test('a stall of the remote is logged at once, then at most every 10 s, and the master is not blamed', async (t) => {
  const h = await up();
  const stalls = () => h.io.logs.filter((l) => l.text === STALL).map((l) => [l.level, l.fields]);
  h.clock.advance(5000);
  h.core.onTimeout(h.clock.now(), false);
  t.same(stalls(), [['warn', { stall_ms: 4900 }]], 'the scan was due 100 ms after UP: 4.9 s late');
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
  h.advance(900);
  t.equal(h.ro.ticks, 1 + 9, 'nine scans in 900 ms, none more on the heartbeat deadlines');
  const sent = h.io.take().map((s) => s.msg.type);
  t.equal(sent.filter((x) => x === 'heartbeat').length, 3, 'heartbeats at 250, 500 and 750 ms');
  t.equal(sent.filter((x) => x === 'hello').length, 0, 'no HELLO while UP');
});

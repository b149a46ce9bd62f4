import t from 'tap';
import { FALLBACK_ADVANCING_PERIODS, MulticastFallback } from '../../src/session/multicast-fallback.js';
import { MASTER_EPOCH, REMOTE, REMOTE_EPOCH, heartbeat, hello, masterHarness, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

const GROUP = { address: '239.1.2.3', port: 31416 };

t.test('the detector asks for unicast after 3 advancing periods without multicast, and plain loss resets it', async (t) => {
  const f = new MulticastFallback();
  let now = 0;
  const tick = (): number => (now += 50);
  f.onHighest(10);
  t.notOk(f.check(5, tick()), 'first look: nothing to compare');
  f.onHighest(11);
  t.notOk(f.check(5, tick()));
  f.onMulticast(); // loss lets one through
  f.onHighest(12);
  t.notOk(f.check(5, tick()), 'reset');
  t.equal(f.advancingWithout, 0);
  for (const h of [13, 14]) {
    f.onHighest(h);
    t.notOk(f.check(5, tick()));
  }
  f.onHighest(15);
  t.ok(f.check(5, tick()), 'third advancing period in a row');
  t.ok(f.wantUnicast);
});

t.test('a quiet BC: behind for 20 periods and 20 s with no multicast at all also asks for unicast', async (t) => {
  const f = new MulticastFallback();
  f.onHighest(10);
  let on = false;
  // At -i 50: 20 periods are 1 s, far fewer NACK rounds than 30% loss can defeat; not yet.
  for (let i = 1; i <= 20; i++) on = f.check(5, i * 50) || on;
  t.notOk(on || f.wantUnicast, '20 periods in 1 s are not enough');
  for (let i = 21; i <= 500 && !on; i++) on = f.check(5, i * 50);
  t.ok(on && f.wantUnicast, 'after 20 s still behind with no multicast: unicast');
  const g = new MulticastFallback();
  g.onHighest(10);
  let gOn = false;
  // At -i 2000 twenty periods are 40 s: the period count is the bound.
  for (let i = 1; i <= 19; i++) gOn = g.check(5, i * 2000) || gOn;
  t.notOk(gOn, '19 periods are not enough, even 38 s');
  t.ok(g.check(5, 20 * 2000), 'the 20th period is');
  const h = new MulticastFallback();
  h.onHighest(10);
  for (let i = 1; i <= 600; i++) {
    if (i === 300) h.onMulticast(); // one repair got through: 15 s before it, 15 s after
    h.check(5, i * 50);
  }
  t.notOk(h.wantUnicast, 'a multicast datagram inside the streak starts it over (30 s in all, never 20 s in a row)');
});

t.test('the remote sets WANT_BC_UNICAST when no multicast arrives, and clears it only by joining again', async (t) => {
  const h = remoteHarness();
  h.withBc();
  h.deliver(
    welcome(REMOTE_EPOCH, { bcMode: 'multicast', bcSize: 4096, bcNextSeq: 5, multicast: { port: GROUP.port, address: new Uint8Array([239, 1, 2, 3]) } }),
  );
  await settle();
  t.equal(h.bcIn.receiver?.expected, 5, "BC from WELCOME's BC Next Seq");
  for (let seq = 10; seq < 20; seq++) {
    h.advance(100);
    h.deliver(
      heartbeat(0xffff, 0, MASTER_EPOCH, {
        flows: [
          { flow: 'mo', highestSeq: 6 },
          { flow: 'bc', highestSeq: seq },
        ],
      }),
    );
  }
  t.ok(
    h.io.take('heartbeat').some((b) => b.msg.wantBcUnicast),
    'the flag goes out',
  );
  t.same(
    h.io.logs.filter((l) => /no multicast arrives/.test(l.text)).map((l) => [l.level, l.fields]),
    [['warn', { periods: FALLBACK_ADVANCING_PERIODS + 1, advancing: FALLBACK_ADVANCING_PERIODS }]],
    'once, with the periods behind (the first had no earlier highest seq to advance from) and those advancing',
  );
  h.deliver({ type: 'goodbye', src: 0xffff, dst: 0, epoch: MASTER_EPOCH, packetNumber: 9, reason: 'shutdown' });
  h.deliver(welcome(REMOTE_EPOCH + 1, { bcMode: 'multicast', bcSize: 4096, multicast: { port: GROUP.port, address: new Uint8Array([239, 1, 2, 3]) } }));
  await settle();
  h.io.take();
  h.advance(150);
  const [beat] = h.io.take('heartbeat');
  t.equal(beat?.msg.wantBcUnicast, false, 'a new session starts on multicast again');
});

t.test('the master sends BC by unicast to a remote in fallback, and by multicast again after it re-joins', async (t) => {
  const h = masterHarness({ group: GROUP }, true);
  h.deliver(hello());
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH));
  h.io.take();
  const bcEmit = h.bc!.lastStart!.emit;
  const data = {
    type: 'data' as const,
    src: 0xffff,
    dst: 0xfffe,
    epoch: MASTER_EPOCH,
    packetNumber: 0,
    flow: 'bc' as const,
    seq: 1,
    batchId: 1,
    page: 0,
    offset: 0,
    payload: new Uint8Array(8),
  };
  bcEmit(data);
  t.same(
    h.io.take().map((s) => s.to),
    [GROUP],
    'multicast only',
  );
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH, { wantBcUnicast: true }));
  t.equal(h.core.peers(h.clock.now())[0]!.bcUnicast, true);
  bcEmit(data);
  const sent = h.io.take();
  t.same(
    sent.map((s) => s.to),
    [GROUP, REMOTE],
    'the group, and the remote by unicast',
  );
  t.equal(sent[1]!.msg.dst, 0, 'with Dst = its client id');
  h.deliver(hello({ epoch: REMOTE_EPOCH + 1 })); // the remote joined again
  h.deliver(heartbeat(0, 0xffff, REMOTE_EPOCH + 1));
  h.io.take();
  bcEmit(data);
  t.same(
    h.io.take().map((s) => s.to),
    [GROUP],
    'back to multicast',
  );
  t.equal(h.bc!.fullOwed, 2, 'each new session got the full BC batch (spec §8.1)');
});

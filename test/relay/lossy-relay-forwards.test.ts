import t from 'tap';
import { openUdpEndpoint, startRelay } from '../fixtures/lossy-relay.js';
import { testSeed } from '../fixtures/prng.js';

const seed = testSeed();
t.comment(`relay seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);

for (const family of [4, 6] as const) {
  t.test(`without loss every datagram arrives in both directions over IPv${family} loopback`, async (t) => {
    const COUNT = 200;
    const target = await openUdpEndpoint(family, { echo: true });
    t.teardown(() => target.close());
    const relay = await startRelay({ family, target: { address: target.address, port: target.port }, seed, loss: 0 });
    t.teardown(() => relay.close());
    const client = await openUdpEndpoint(family);
    t.teardown(() => client.close());

    await client.sendIndexed(relay.port, COUNT);
    await client.quiet();

    const everyIndexOnce = new Map(Array.from({ length: COUNT }, (_, i) => [i, 1] as [number, number]));
    t.same(target.counts, everyIndexOnce, 'the target received each datagram once');
    t.same(client.counts, everyIndexOnce, 'the client received each echo once');
    const { up, down } = relay.stats;
    t.match(up, { received: COUNT, forwarded: COUNT, dropped: 0, duplicated: 0 }, 'up counters');
    t.match(down, { received: COUNT, forwarded: COUNT, dropped: 0, duplicated: 0 }, 'down counters');
  });
}

t.test('with 30% loss roughly 30% of datagrams are dropped', async (t) => {
  const COUNT = 400;
  const target = await openUdpEndpoint(4);
  t.teardown(() => target.close());
  const relay = await startRelay({ family: 4, target: { address: target.address, port: target.port }, seed, loss: 0.3 });
  t.teardown(() => relay.close());
  const client = await openUdpEndpoint(4);
  t.teardown(() => client.close());

  await client.sendIndexed(relay.port, COUNT);
  await target.quiet();

  const { up } = relay.stats;
  t.equal(up.received, COUNT, 'the relay saw every datagram');
  t.equal(up.forwarded + up.dropped, COUNT, 'each datagram was forwarded or dropped');
  // 0.3 +- 0.1 is more than four standard deviations at this count.
  t.ok(up.dropped >= 0.2 * COUNT && up.dropped <= 0.4 * COUNT, `dropped ${up.dropped} of ${COUNT}`);
  t.equal(target.total(), up.forwarded, 'the target received exactly what was forwarded');
});

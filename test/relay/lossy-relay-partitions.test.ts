import t from 'tap';
import { openUdpEndpoint, startRelay } from '../fixtures/lossy-relay.js';
import { testSeed } from '../fixtures/prng.js';

t.test('a partitioned relay passes nothing either way until the partition ends', async (t) => {
  const seed = testSeed();
  t.comment(`relay seed ${seed}`);
  const COUNT = 30;
  const target = await openUdpEndpoint(4, { echo: true });
  t.teardown(() => target.close());
  const relay = await startRelay({ family: 4, target: { address: target.address, port: target.port }, seed });
  t.teardown(() => relay.close());
  const client = await openUdpEndpoint(4);
  t.teardown(() => client.close());

  relay.partition(true);
  await client.sendIndexed(relay.port, COUNT);
  await client.quiet();
  t.equal(target.total(), 0, 'nothing reached the target');
  t.match(relay.stats.up, { received: COUNT, dropped: COUNT, partitioned: COUNT }, 'every datagram counted as partitioned');
  t.match(relay.trace('up'), new RegExp(`^p{${COUNT}}$`), 'every fate is p');

  relay.partition(false);
  await client.sendIndexed(relay.port, COUNT, 100);
  await client.quiet();
  t.equal(target.total(), COUNT, 'after the partition everything reached the target');
  t.equal(client.total(), COUNT, 'and every echo came back');
});

t.test('echoes are dropped while the partition is on', async (t) => {
  const seed = testSeed();
  const target = await openUdpEndpoint(4, { echo: true });
  t.teardown(() => target.close());
  const relay = await startRelay({ family: 4, target: { address: target.address, port: target.port }, seed, delayMs: 50 });
  t.teardown(() => relay.close());
  const client = await openUdpEndpoint(4);
  t.teardown(() => client.close());

  // The datagram's fate is decided on arrival at the relay, before the partition; it is
  // then held for delayMs on its way up, and the partition catches its echo.
  await client.sendIndexed(relay.port, 1);
  for (let i = 0; i < 100 && relay.stats.up.received === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  relay.partition(true);
  await target.quiet(200, 2000);
  await client.quiet();
  t.equal(target.total(), 1, 'the datagram sent before the partition reached the target');
  t.equal(client.total(), 0, 'its echo did not come back');
  t.equal(relay.stats.down.partitioned, 1, 'the echo counted as partitioned');
});

import t from 'tap';
import { openUdpEndpoint, startRelay } from '../fixtures/lossy-relay.js';
import { testSeed } from '../fixtures/prng.js';

t.test('each client reaches the target from its own address and gets only its own replies', async (t) => {
  const seed = testSeed();
  t.comment(`relay seed ${seed}`);
  const target = await openUdpEndpoint(4, { echo: true });
  t.teardown(() => target.close());
  const relay = await startRelay({ family: 4, target: { address: target.address, port: target.port }, seed });
  t.teardown(() => relay.close());
  const a = await openUdpEndpoint(4);
  t.teardown(() => a.close());
  const b = await openUdpEndpoint(4);
  t.teardown(() => b.close());

  await a.sendIndexed(relay.port, 20, 0);
  await b.sendIndexed(relay.port, 20, 1000);
  await Promise.all([a.quiet(), b.quiet()]);

  t.equal(target.peers.size, 2, 'the target saw two peers');
  t.notOk(target.peers.has(`${a.address}|${a.port}`), 'the target did not see client a directly');
  t.equal(relay.stats.clients, 2, 'the relay opened two upstream sockets');
  t.same(
    [...a.counts.keys()].sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => i),
    'a got its echoes',
  );
  t.same(
    [...b.counts.keys()].sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => 1000 + i),
    'b got its echoes',
  );
});

import t from 'tap';
import dgram from 'node:dgram';
import { startRelay } from '../fixtures/lossy-relay.js';
import { testSeed } from '../fixtures/prng.js';

t.test('reordered datagrams arrive late but all arrive', async (t) => {
  const seed = testSeed();
  t.comment(`relay seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
  const COUNT = 100;
  const order: number[] = [];
  const target = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((resolve) => target.close(() => resolve())));
  target.on('message', (msg) => order.push(msg.readUInt32BE(0)));
  await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', resolve));

  const relay = await startRelay({
    family: 4,
    target: { address: '127.0.0.1', port: target.address().port },
    seed,
    reorder: 0.2,
    reorderDelayMs: 30,
  });
  t.teardown(() => relay.close());
  const client = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((resolve) => client.close(() => resolve())));

  // 2 ms apart, so a datagram held 30 ms is overtaken by about 15 others.
  for (let i = 0; i < COUNT; i++) {
    const msg = Buffer.alloc(8);
    msg.writeUInt32BE(i, 0);
    await new Promise<void>((resolve) => client.send(msg, relay.port, '127.0.0.1', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  for (let i = 0; i < 100 && order.length < COUNT; i++) await new Promise((resolve) => setTimeout(resolve, 10));

  const { reordered } = relay.stats.up;
  t.ok(reordered > 0, `some datagrams were held back (${reordered})`);
  t.same(
    [...order].sort((x, y) => x - y),
    Array.from({ length: COUNT }, (_, i) => i),
    'every datagram arrived once',
  );
  const late = order.filter((v, i) => i > 0 && v < (order[i - 1] ?? 0)).length;
  t.ok(late > 0, `some arrived after a later one (${late})`);
});

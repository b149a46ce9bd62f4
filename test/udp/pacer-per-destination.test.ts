import t from 'tap';
import { createSocket } from 'node:dgram';
import { UdpEndpoint } from '../../src/udp/socket.js';
import { eventually } from '../fixtures/cluster.js';

t.test('each destination has its own token bucket: a burst to one does not hold back another', async (t) => {
  const ep = await UdpEndpoint.bind({ family: 4, address: '127.0.0.1', port: 0, rate: 1, burst: 100 });
  const sinks = await Promise.all(
    [0, 1].map(async () => {
      const s = createSocket('udp4');
      let n = 0;
      s.on('message', () => n++);
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      return { s, port: s.address().port, count: () => n };
    }),
  );
  t.teardown(async () => {
    for (const x of sinks) x.s.close();
  });
  for (const sink of sinks) for (let i = 0; i < 300; i++) ep.send(Buffer.from([i & 0xff]), { address: '127.0.0.1', port: sink.port });
  // At 1 datagram/s, each destination got its own burst of 100 and waits with 200 queued.
  t.ok(ep.queued >= 398 && ep.queued <= 400, `400 queued (${ep.queued}), 200 per destination`);
  const waited = Date.now();
  t.ok(await eventually(() => sinks.every((x) => x.count() >= 100), 10_000), 'both destinations received their burst');
  // Beyond the burst the bucket refills at 1/s: at most one more per second waited (and one in flight).
  const extra = Math.ceil((Date.now() - waited) / 1000) + 1;
  for (const x of sinks) t.ok(x.count() <= 100 + extra, `no more than the burst and the refill (${x.count()}, at most ${100 + extra})`);
  await ep.close(0);
  t.ok(ep.counters.sent >= 200);
});

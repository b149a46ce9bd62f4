import t, { type Test } from 'tap';
import { canUseNetns, createBridgeNetwork, udpExchange, type BridgeNetwork, type NetnsHost } from '../fixtures/netns.js';

const netns = canUseNetns();
const skip = netns.ok ? false : netns.why;

async function twoHosts(t: Test): Promise<[BridgeNetwork, NetnsHost, NetnsHost]> {
  const net = await createBridgeNetwork({ hosts: 2 });
  t.teardown(() => net.destroy());
  const [a, b] = net.hosts;
  if (a === undefined || b === undefined) throw new Error('expected two hosts');
  return [net, a, b];
}

t.test('a partition drops all UDP between two hosts and heal restores it', { skip }, async (t) => {
  const [net, a, b] = await twoHosts(t);
  const COUNT = 20;
  await net.partition(a);
  for (const family of [4, 6] as const) {
    const into = await udpExchange({ from: b, to: a, family, count: COUNT });
    t.equal(into.received, 0, `IPv${family}: nothing reaches the partitioned host`);
    const out = await udpExchange({ from: a, to: b, family, count: COUNT });
    t.equal(out.received, 0, `IPv${family}: nothing leaves the partitioned host`);
  }
  await net.heal(a);
  for (const family of [4, 6] as const) {
    const into = await udpExchange({ from: b, to: a, family, count: COUNT });
    t.equal(into.unique, COUNT, `IPv${family}: after heal everything reaches the host`);
    const out = await udpExchange({ from: a, to: b, family, count: COUNT });
    t.equal(out.unique, COUNT, `IPv${family}: after heal everything leaves the host`);
  }
});

t.test('50% random loss drops some but not all datagrams', { skip }, async (t) => {
  const [net, a, b] = await twoHosts(t);
  const COUNT = 200;
  // nft's numgen is the kernel's random source, not seeded: bounds are loose instead.
  await net.loss(b, { ingress: 50 });
  const r = await udpExchange({ from: a, to: b, family: 4, count: COUNT });
  t.equal(r.sent, COUNT, 'the sender sent every datagram');
  t.ok(r.unique > 0 && r.unique < COUNT, `some but not all arrived (${r.unique} of ${COUNT})`);
  // 100 +- 50 is seven standard deviations at this count.
  t.ok(r.unique >= 50 && r.unique <= 150, 'about half arrived');

  await net.loss(b, { egress: 50 });
  const back = await udpExchange({ from: b, to: a, family: 6, count: COUNT });
  t.ok(back.unique > 0 && back.unique < COUNT, `egress loss on IPv6 too (${back.unique} of ${COUNT})`);
});

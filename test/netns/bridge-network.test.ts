import t from 'tap';
import { canUseNetns, createBridgeNetwork, run, udpExchange } from '../fixtures/netns.js';

const netns = canUseNetns();
const skip = netns.ok ? false : netns.why;

/** Names of the current namespaces. */
async function namespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

t.test('two hosts on a bridge reach each other over IPv4 and IPv6, and destroy removes everything', { skip }, async (t) => {
  const net = await createBridgeNetwork({ hosts: 2 });
  t.teardown(() => net.destroy());
  const [a, b] = net.hosts;
  if (a === undefined || b === undefined) throw new Error('expected two hosts');
  t.comment(`namespaces ${net.bridge} ${a.name} ${b.name}`);
  for (const name of [net.bridge, a.name, b.name]) t.ok(name.length <= 15, `${name} fits in 15 characters`);

  const ping = await run('ping', ['-V']);
  t.test('ping works both ways', { skip: ping.code === 0 ? false : 'ping is not installed' }, async (t) => {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const address of [to.ipv4, to.ipv6]) {
        const r = await from.exec('ping', ['-c', '1', '-W', '2', address], { timeoutMs: 5_000 });
        t.equal(r.code, 0, `${from.name} pings ${address}`);
      }
    }
  });

  for (const family of [4, 6] as const) {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const r = await udpExchange({ from, to, family, count: 20 });
      t.match(r, { sent: 20, sendErrors: 0, unique: 20 }, `IPv${family} UDP from ${from.name} to ${to.name}`);
    }
  }

  await net.destroy();
  await net.destroy(); // idempotent
  const left = await namespaces();
  for (const name of [net.bridge, a.name, b.name]) t.notOk(left.includes(name), `${name} is gone`);
});

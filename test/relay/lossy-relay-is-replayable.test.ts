import t, { type Test } from 'tap';
import { openUdpEndpoint, startRelay, type Relay, type RelayOptions } from '../fixtures/lossy-relay.js';
import { testSeed } from '../fixtures/prng.js';

const COUNT = 300;

interface Run {
  up: string;
  down: string;
  atTarget: Map<number, number>;
  atClient: Map<number, number>;
  stats: Relay['stats'];
}

/** Sends COUNT datagrams through a relay to an echoing target and records what happened. */
async function run(t: Test, seed: number): Promise<Run> {
  const target = await openUdpEndpoint(4, { echo: true });
  t.teardown(() => target.close());
  // Reordering is left out on purpose: it changes which echo reaches the relay k-th,
  // and this test compares which datagrams arrive, not only the fates.
  const opts: RelayOptions = {
    family: 4,
    target: { address: target.address, port: target.port },
    seed,
    loss: { up: 0.2, down: 0.1 },
    duplicate: 0.1,
  };
  const relay = await startRelay(opts);
  t.teardown(() => relay.close());
  const client = await openUdpEndpoint(4);
  t.teardown(() => client.close());
  await client.sendIndexed(relay.port, COUNT);
  await client.quiet();
  const result = {
    up: relay.trace('up'),
    down: relay.trace('down'),
    atTarget: new Map(target.counts),
    atClient: new Map(client.counts),
    stats: relay.stats,
  };
  await Promise.all([relay.close(), client.close(), target.close()]);
  return result;
}

const sorted = (m: Map<number, number>): Array<[number, number]> => [...m].sort((a, b) => a[0] - b[0]);

t.test('the same seed gives the same traffic the same drops and duplicates', async (t) => {
  const seed = testSeed();
  t.comment(`relay seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
  const first = await run(t, seed);
  const second = await run(t, seed);
  t.equal(first.stats.up.received, COUNT, 'every datagram reached the relay');
  t.equal(first.up.length, COUNT, 'one fate per datagram going up');
  t.match(first.up, /x/, 'some datagrams were dropped going up');
  t.match(first.up, /d/, 'some datagrams were duplicated going up');
  t.equal(second.up, first.up, 'the same fates going up');
  t.equal(second.down, first.down, 'the same fates going down');
  t.same(sorted(second.atTarget), sorted(first.atTarget), 'the target received the same datagrams');
  t.same(sorted(second.atClient), sorted(first.atClient), 'the client received the same echoes');
  t.same(second.stats, first.stats, 'the same counters');
});

t.test('a different seed gives different fates', async (t) => {
  const seed = testSeed();
  const other = (seed + 1) >>> 0;
  t.comment(`relay seeds ${seed} and ${other}`);
  const a = await run(t, seed);
  const b = await run(t, other);
  t.not(b.up, a.up, 'the fates going up differ');
});

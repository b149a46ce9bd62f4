import t from 'tap';
import { startRelay } from '../fixtures/lossy-relay.js';
import { Prng, testSeed } from '../fixtures/prng.js';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

const seed = testSeed();
t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);

t.test('through 10% loss, reordering and duplicates both ways, a stream of updates converges byte for byte', async (t) => {
  const c = await startCluster({ remotes: 2, start: [], masterArgs: ['-s', '64K'], remoteArgs: ['-s', '64K'] });
  t.teardown(() => c.destroy());
  const relay = await startRelay({
    family: 4,
    target: { address: '127.0.0.1', port: c.port },
    seed,
    loss: 0.1,
    duplicate: 0.05,
    reorder: 0.1,
    reorderDelayMs: 15,
  });
  t.teardown(() => relay.close());
  await c.startRemote(1, ['-P', String(relay.port)]);
  const master = c.attachMaster();
  const remote = c.attachRemote(1);
  const rng = new Prng(seed);
  const words = (64 * 1024) / 8;
  for (let round = 0; round < 150; round++) {
    for (let k = 0; k < 8; k++) {
      remote.ro.writeBigUInt64LE(BigInt(round * 100 + k), 8 * rng.int(words));
      master.moSlice(1).writeBigUInt64LE(BigInt(round * 100 + k), 8 * rng.int(words));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const converged = await eventually(() => sameBytes(master.roSlice(1), remote.ro) && sameBytes(master.moSlice(1), remote.mo), 20_000, 50);
  const stats = relay.stats;
  t.comment(`relay up ${JSON.stringify(stats.up)} down ${JSON.stringify(stats.down)}`);
  t.ok(converged, 'RO and MO are byte-identical on both sides');
  t.ok(stats.up.dropped > 0 && stats.down.dropped > 0, 'datagrams were lost both ways');
  t.ok(stats.up.duplicated + stats.down.duplicated > 0, 'datagrams were duplicated');
});

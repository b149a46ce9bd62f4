import t from 'tap';
import { startRelay } from '../fixtures/lossy-relay.js';
import { testSeed } from '../fixtures/prng.js';
import { harnessFor } from '../fixtures/scenario/harness.js';
import { bcAgrees, ms, startScenario } from '../fixtures/scenario/scenario.js';

// The relay only relays on loopback: this scenario runs the daemons in this namespace,
// every remote's traffic through one seeded relay. Replay with PDSM_TEST_SEED.
const seed = testSeed();
t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

const DUPLICATE = 0.15;
const REORDER = 0.25;

// BC by unicast fan-out: each remote's copy goes through the relay like its MO.
t.test('through duplicated and reordered datagrams plus loss (seeded relay), 3 remotes with writers on every side and on BC end byte-identical', async (t) => {
  const h = await harnessFor(t, { remotes: 3, network: 'loopback', bc: { size: '8K', mode: 'unicast' } });
  // Duplicates and reordering from the first datagram on (the join goes through them too);
  // loss is switched on per phase.
  const relay = await startRelay({
    family: 4,
    target: { address: '127.0.0.1', port: h.port },
    seed,
    loss: 0,
    duplicate: DUPLICATE,
    reorder: REORDER,
    reorderDelayMs: 15,
  });
  t.teardown(() => relay.close());
  const s = await startScenario(h, { remotePort: () => relay.port });
  t.teardown(() => s.stop());
  t.equal(relay.stats.clients, 3, 'every remote talks through the relay');

  for (const loss of [0.05, 0.2]) {
    await t.test(`${DUPLICATE * 100}% duplicated, ${REORDER * 100}% reordered and ${loss * 100}% lost, both ways`, async (t) => {
      relay.setLoss(loss);
      const before = relay.stats;
      s.writers.start();
      await sleep(2000);
      const { ms: took, last } = await s.settle(20_000);
      s.records.push({ fault: `relay dup+reorder+${loss * 100}% loss`, catchUpMs: took });
      const now = relay.stats;
      const delta = (k: 'dropped' | 'duplicated' | 'reordered'): number => now.up[k] + now.down[k] - before.up[k] - before.down[k];
      t.comment(
        `relay ${loss * 100}% loss: dropped ${delta('dropped')}, duplicated ${delta('duplicated')}, reordered ${delta('reordered')}; converged ${ms(took)} after the writers stopped; ${s.describeBc()}`,
      );
      t.ok(took !== undefined, `every slice is byte-identical and as written:\n${last.text}`);
      t.ok(bcAgrees(s, last), `every remote's BC equals the master's and the writer's last update (${s.describeBc()})`);
      t.ok(delta('dropped') > 0 && delta('duplicated') > 0 && delta('reordered') > 0, 'datagrams were really lost, duplicated and reordered');
      t.equal(s.reader.total, 0, `no reader saw a torn, old, foreign or mixed batch: ${s.reader.summary()}`);
    });
  }
  relay.setLoss(0);
});

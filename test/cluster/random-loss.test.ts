import t from 'tap';
import { canUseNetns } from '../fixtures/netns.js';
import { harnessFor } from '../fixtures/scenario/harness.js';
import { bcAgrees, ms, startScenario, unicastFallbacks } from '../fixtures/scenario/scenario.js';

const netns = canUseNetns();
const skip = netns.ok ? false : `cluster tests need network namespaces: ${netns.why}`;
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

const REMOTES = 4;
const WRITE_MS = 2000;

t.test('with 1%, 10% and 30% random loss both ways, 4 remotes and writers on every side and on multicast BC end byte-identical', { skip }, async (t) => {
  const h = await harnessFor(t, { remotes: REMOTES, bc: { size: '8K', mode: 'multicast' } });
  const s = await startScenario(h);
  t.teardown(() => s.stop());
  const remoteIds = [...s.remotes.keys()];

  for (const pct of [1, 10, 30]) {
    await t.test(`${pct}% loss on every remote's link, in and out`, async (t) => {
      s.writers.start();
      const before = await Promise.all(remoteIds.map((n) => h.dropped(n)));
      await Promise.all(remoteIds.map((n) => h.loss(n, { ingress: pct, egress: pct })));
      await sleep(WRITE_MS);
      const written = s.writers.total;
      // Converge with the loss still on: repairs have to get through it too. At 30% the
      // receivers' NACK back-off reaches its 2 s cap (spec §12) and a backlog takes seconds.
      const { ms: took, last } = await s.settle(pct >= 30 ? 45_000 : 20_000);
      s.records.push({ fault: `${pct}% loss`, catchUpMs: took });
      const dropped = (await Promise.all(remoteIds.map((n) => h.dropped(n)))).reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
      await Promise.all(remoteIds.map((n) => h.heal(n)));
      t.comment(
        `${pct}% loss: ${written} updates written so far, nft dropped ${dropped} packets; converged in ${ms(took)} after the writers stopped; ${s.describeBc()}`,
      );
      t.ok(took !== undefined, `every slice is byte-identical on master and remote and as written:\n${last.text}`);
      t.ok(bcAgrees(s, last), "every remote's BC equals the master's and the writer's last update");
      t.ok(dropped > 0, 'the network really lost packets');
      t.equal(s.reader.total, 0, `no reader saw a torn, old, foreign or mixed batch: ${s.reader.summary()}`);
    });
  }
  t.ok(s.reader.reads > 1000, `the readers kept reading (${s.reader.reads} reads)`);
  // spec §8.4: a remote asks for unicast BC only when for 3 heartbeats BC Highest Seq advanced
  // past what it has and not one multicast datagram arrived. Losing 30% of them is not that.
  await t.test('loss alone moves no remote off multicast BC', async (t) => {
    t.same(unicastFallbacks(h), [], 'the master never logged a remote moved to unicast BC');
  });
});

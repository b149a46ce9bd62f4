import t from 'tap';
import { PeerState } from '../../src/index.js';
import { eventually } from '../fixtures/cluster.js';
import { canUseNetns } from '../fixtures/netns.js';
import { harnessFor } from '../fixtures/scenario/harness.js';
import { bcAgrees, ms, restart, startScenario, type Scenario } from '../fixtures/scenario/scenario.js';
import type { Flow } from '../fixtures/scenario/workload.js';

const netns = canUseNetns();
const skip = netns.ok ? false : `cluster tests need network namespaces: ${netns.why}`;
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

/** Median catch-up time of `flows` over a few samples: how far behind the writers their receivers run. */
async function lag(s: Scenario, flows: Flow[], what: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push((await s.catchUp(what, 5000, flows)) ?? 5000);
    await sleep(50);
  }
  samples.sort((a, b) => a - b);
  return samples[2]!;
}

// BC goes by unicast fan-out here: the master must stop sending a dead remote its BC too.
t.test('remote crashes, with BC by unicast fan-out', { skip }, async (t) => {
  const h = await harnessFor(t, { remotes: 3, bc: { size: '8K', mode: 'unicast' } });
  const s = await startScenario(h);
  t.teardown(() => s.stop());
  await sleep(500);

  await t.test('after SIGKILL of a remote and a restart while writers run, every node converges', async (t) => {
    const N = 2;
    const oldPid = h.daemons.get(N)!.pid;
    t.equal(await h.kill(N), 'SIGKILL', `remote ${N} died of SIGKILL`);
    await sleep(500);
    const startMs = await restart(h, N);
    t.not(h.daemons.get(N)!.pid, oldPid, 'a new remote process');
    const caught = await s.catchUp(`remote ${N} SIGKILL and restart`, 20_000);
    t.comment(`remote crash: restart took ${ms(startMs)}; then every receiver caught up in ${ms(caught)}`);
    t.ok(caught !== undefined, 'every receiver caught up with the writers');
    t.match(h.daemons.get('master')!.stderr(), new RegExp(`remote joined client=${N}[\\s\\S]*remote joined client=${N}`), 'the master saw it join twice');
    const { ms: settled, last } = await s.settle();
    t.comment(`remote crash: byte-identical ${ms(settled)} after the writers stopped; ${s.describeBc()}`);
    t.ok(settled !== undefined, `every slice is byte-identical and as written:\n${last.text}`);
    t.ok(bcAgrees(s, last), `every remote's BC, the restarted one's included, equals the master's and the writer's last update`);
    t.equal(s.reader.total, 0, `no reader saw a torn, old, foreign or mixed batch: ${s.reader.summary()}`);
    s.writers.start();
  });

  await t.test('a remote that never comes back is reported down and costs the others nothing', async (t) => {
    const GONE = 0;
    const others = [...s.remotes.keys()].filter((n) => n !== GONE);
    const otherFlows = s.flows.filter((f) => f.model.name.client !== GONE);
    await sleep(300);
    const baseline = await lag(s, otherFlows, 'others before the crash');
    s.states.reset();

    const killedAt = performance.now();
    await h.kill(GONE);
    // Its node is gone, applications and all; the master's writers to its slice and to BC go on.
    for (const f of s.flowsOf(GONE)) {
      f.tracked = false;
      if (f.model.name.dir === 'ro') f.enabled = false;
    }
    const down = await eventually(() => s.master.status('ro', GONE).peerState === PeerState.DOWN, 5000, 10);
    const downAfter = performance.now() - killedAt;
    t.ok(down, `the master's ST says remote ${GONE} is DOWN (after ${ms(downAfter)})`);
    t.equal(s.master.status('mo', GONE).peerState, PeerState.DOWN, 'for its MO flow too');
    await h.daemons.get('master')!.waitFor(new RegExp(`remote down client=${GONE}`), 2000);

    await sleep(200);
    const rxBefore = await h.udpReceived(GONE);
    const during = await lag(s, otherFlows, `others with remote ${GONE} down`);
    await sleep(500);
    const rxAfter = await h.udpReceived(GONE);
    t.comment(`remote gone: marked down after ${ms(downAfter)}; others' lag ${ms(baseline)} before, ${ms(during)} after`);
    t.ok(during < Math.max(3 * baseline, baseline + 300), `the others' data flows as fast as before (${ms(during)} vs ${ms(baseline)})`);
    t.ok(rxAfter - rxBefore <= 2, `the master sends nothing more to the dead remote's host, BC included (${rxAfter - rxBefore} UDP datagrams in ~1 s)`);

    const { ms: settled, last } = await s.settle();
    t.ok(settled !== undefined, `the others' slices are byte-identical and as written:\n${last.text}`);
    t.ok(bcAgrees(s, last), `the others' BC equals the master's and the writer's last update (${s.describeBc()})`);
    s.states.stop();
    for (const n of others) t.ok(s.states.alwaysUp(n), `remote ${n} stayed UP the whole time on both ends (${s.states.describe(n)})`);
    t.equal(s.master.status('ro', GONE).peerState, PeerState.DOWN, 'the dead remote is still reported DOWN');
    t.equal(s.reader.total, 0, `no reader saw a torn, old, foreign or mixed batch: ${s.reader.summary()}`);
  });
});

import t from 'tap';
import { canUseNetns } from '../fixtures/netns.js';
import { harnessFor } from '../fixtures/scenario/harness.js';
import { bcAgrees, ms, restart, startScenario } from '../fixtures/scenario/scenario.js';

const netns = canUseNetns();
const skip = netns.ok ? false : `cluster tests need network namespaces: ${netns.why}`;
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

t.test(
  'after SIGKILL of the master and a restart while writers run on every side and on its multicast BC, every node converges without restarting a remote',
  { skip },
  async (t) => {
    const h = await harnessFor(t, { remotes: 3, bc: { size: '8K', mode: 'multicast' } });
    const s = await startScenario(h);
    t.teardown(() => s.stop());
    await sleep(500);
    const remotePids = [...s.remotes.keys()].map((n) => h.daemons.get(n)!.pid);
    const firstMaster = h.daemons.get('master')!;

    t.equal(await h.kill('master'), 'SIGKILL', 'the master died of SIGKILL');
    // Writers keep writing on every side, into segments that outlive the daemon.
    const before = s.writers.total;
    await sleep(700);
    t.ok(s.writers.total > before, 'the writers went on while the master was dead');
    const startMs = await restart(h, 'master');
    t.not(h.daemons.get('master')!.pid, firstMaster.pid, 'a new master process');
    t.match(h.daemons.get('master')!.stderr(), /re-attached segment segment=MO/, 'the new master re-attached to the old segments');
    t.match(h.daemons.get('master')!.stderr(), /re-attached segment segment=BC/, 'BC too');

    const caught = await s.catchUp('master SIGKILL and restart', 20_000);
    t.comment(`master crash: restart took ${ms(startMs)}; then every receiver caught up in ${ms(caught)}`);
    t.ok(caught !== undefined, 'every receiver caught up with the writers after the restart');
    for (const n of s.remotes.keys()) {
      t.match(h.daemons.get(n)!.stderr(), /joined master[\s\S]*joined master/, `remote ${n} joined the new master`);
    }
    t.same(
      [...s.remotes.keys()].map((n) => h.daemons.get(n)!.pid),
      remotePids,
      'no remote was restarted',
    );

    const { ms: settled, last } = await s.settle();
    t.comment(`master crash: byte-identical ${ms(settled)} after the writers stopped; ${s.describeBc()}`);
    t.ok(settled !== undefined, `every slice is byte-identical and as written:\n${last.text}`);
    t.ok(bcAgrees(s, last), `every remote's BC equals the master's and the writer's last update (${s.describeBc()})`);
    t.equal(s.reader.total, 0, `no reader saw a torn, old, foreign or mixed batch: ${s.reader.summary()}`);
  },
);

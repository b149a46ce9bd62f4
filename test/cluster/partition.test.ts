import t from 'tap';
import { PeerState } from '../../src/index.js';
import { eventually } from '../fixtures/cluster.js';
import { canUseNetns } from '../fixtures/netns.js';
import { harnessFor } from '../fixtures/scenario/harness.js';
import { bcAgrees, ms, startScenario, unicastFallbacks } from '../fixtures/scenario/scenario.js';

const netns = canUseNetns();
const skip = netns.ok ? false : `cluster tests need network namespaces: ${netns.why}`;
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

t.test(
  'a remote partitioned past the liveness timeout is marked down, resyncs MO, RO and multicast BC after heal, and the others never notice (IPv6)',
  { skip },
  async (t) => {
    const h = await harnessFor(t, { remotes: 3, family: 6, bc: { size: '8K', mode: 'multicast' } });
    const s = await startScenario(h);
    t.teardown(() => s.stop());
    const CUT = 1;
    const others = [...s.remotes.keys()].filter((n) => n !== CUT);
    const otherFlows = s.flows.filter((f) => f.model.name.client !== CUT);
    await sleep(500);
    s.states.reset();

    const cutAt = performance.now();
    await h.partition(CUT);
    const markedDown = await eventually(() => s.master.status('ro', CUT).peerState === PeerState.DOWN, 5000, 10);
    const downAfter = performance.now() - cutAt;
    t.ok(markedDown, `the master's ST says remote ${CUT} is DOWN (after ${ms(downAfter)}; liveness is 1 s)`);
    t.equal(s.master.status('mo', CUT).peerState, PeerState.DOWN, 'for its outgoing MO flow too');
    const sawItself = await eventually(() => s.remotes.get(CUT)!.status('mo').peerState === PeerState.DOWN, 3000, 10);
    t.ok(sawItself, `remote ${CUT}'s own ST says the master is DOWN`);
    t.equal(s.remotes.get(CUT)!.status('bc').peerState, PeerState.DOWN, 'for its incoming BC flow too');

    // While it is cut off, the others' data keeps flowing as before, BC from the group included.
    const othersDuring = await s.catchUp(`others while remote ${CUT} is partitioned`, 5000, otherFlows);
    t.ok(othersDuring !== undefined, `the other remotes kept up during the partition (${ms(othersDuring)}, bound 5 s)`);
    await sleep(300);

    await h.heal(CUT);
    const healed = await s.catchUp(`partition of remote ${CUT} healed`, 20_000);
    t.comment(`partition: marked down after ${ms(downAfter)}; after heal every receiver caught up in ${ms(healed)}`);
    t.ok(healed !== undefined, 'after heal, every receiver caught up with the writers');
    t.equal(s.master.status('ro', CUT).peerState, PeerState.UP, `the master's ST says remote ${CUT} is UP again`);
    t.equal(s.remotes.get(CUT)!.status('bc').peerState, PeerState.UP, `remote ${CUT}'s BC flow is UP again`);
    t.match(
      h.daemons.get('master')!.stderr(),
      new RegExp(`remote down client=${CUT}[\\s\\S]*remote joined client=${CUT}`),
      'the master logged it down, then joined again',
    );

    const { ms: settled, last } = await s.settle();
    t.comment(`partition: byte-identical ${ms(settled)} after the writers stopped; ${s.describeBc()}`);
    t.ok(settled !== undefined, `every slice is byte-identical and as written:\n${last.text}`);
    t.ok(bcAgrees(s, last), `every remote's BC, the healed one's included, equals the master's and the writer's last update (${s.describeBc()})`);
    t.same(
      unicastFallbacks(h).filter((n) => n !== CUT),
      [],
      'no other remote was moved off multicast',
    );
    s.states.stop();
    for (const n of others) t.ok(s.states.alwaysUp(n), `remote ${n} stayed UP the whole time on both ends (${s.states.describe(n)})`);
    t.notOk(s.states.alwaysUp(CUT), `the partitioned remote did not (${s.states.describe(CUT)})`);
    t.equal(s.reader.total, 0, `no reader saw a torn, old, foreign or mixed batch: ${s.reader.summary()}`);
    for (const n of others) t.notMatch(h.daemons.get(n)!.stderr(), /master down/, `remote ${n} never lost the master`);
  },
);

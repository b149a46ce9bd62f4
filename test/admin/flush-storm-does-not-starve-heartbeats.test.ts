import t from 'tap';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { controlSocketPath, queryStatus } from '../../src/daemon/control.js';

// Rounds of 1,000 flushes of MO slice 0 at once, until the master has run three periodic
// scans during the storm: the scans keep their period, both sessions stay up (heartbeats and
// liveness kept working), slice 1 (never flushed) still travels at its period, and the
// flushes coalesce into far fewer scans than there were requests.
t.test('a storm of flushes coalesces into few scans and starves neither heartbeats nor other flows', async (t) => {
  const c = await startCluster({ remotes: 2, intervalMs: 200 });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  const r0 = c.attachRemote(0);
  const r1 = c.attachRemote(1);
  const path = controlSocketPath(c.place.dir);
  const before = await queryStatus(path);
  let rounds = 0;
  let report = before;
  for (; rounds < 40 && (report.scans ?? 0) < (before.scans ?? 0) + 3;) {
    rounds++;
    m.moSlice(0).writeBigUInt64LE(BigInt(rounds), 0);
    m.moSlice(1).writeBigUInt64LE(BigInt(rounds), 0);
    const answers = await Promise.all(Array.from({ length: 1000 }, () => m.flush(0)));
    t.equal(answers.filter((a) => a[0]?.outcome === 'sent' || a[0]?.outcome === 'unchanged').length, 1000, `round ${rounds}: every flush was answered`, {
      diagnostic: false,
    });
    report = await queryStatus(path);
  }
  t.ok((report.scans ?? 0) >= (before.scans ?? 0) + 3, `the periodic scans kept running during ${rounds} rounds (${before.scans} -> ${report.scans})`);
  t.same(
    report.peers.map((p) => [p.state, p.sessions]),
    [
      ['up', 1],
      ['up', 1],
    ],
    'both remotes stayed up in their first session',
  );
  const mo0 = report.peers[0]!.flows.find((f) => f.flow === 'mo')!;
  const mo1 = report.peers[1]!.flows.find((f) => f.flow === 'mo')!;
  t.equal(mo0.flushRequests, rounds * 1000, 'every flush request was counted');
  t.ok(
    mo0.flushScans! >= rounds && mo0.flushScans! * 10 < mo0.flushRequests!,
    `the requests coalesced: ${mo0.flushScans} scans for ${mo0.flushRequests} requests`,
  );
  t.equal(mo1.flushRequests, 0, 'slice 1 was never flushed');
  t.ok(await eventually(() => r0.mo.readBigUInt64LE(0) === BigInt(rounds)), 'remote 0 has the last flushed value');
  t.ok(await eventually(() => r1.mo.readBigUInt64LE(0) === BigInt(rounds)), 'remote 1 got slice 1 at its period');
});

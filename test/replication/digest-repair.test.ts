import t from 'tap';
import { eventually, startCluster } from '../fixtures/cluster.js';

t.test('a page that diverged without a batch (written on the wrong side) is found by the digest and repaired', async (t) => {
  const c = await startCluster({ remotes: 1, masterArgs: ['--digest-interval', '300'], remoteArgs: ['--digest-interval', '300'] });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const remote = c.attachRemote(0);
  master.moSlice(0).writeBigUInt64LE(11n, 1024 + 8);
  remote.ro.writeBigUInt64LE(22n, 2048 + 8);
  t.ok(await eventually(() => remote.mo.readBigUInt64LE(1024 + 8) === 11n && master.roSlice(0).readBigUInt64LE(2048 + 8) === 22n), 'values arrived');
  // An application writes into the copies, which belong to the other side.
  remote.mo.writeBigUInt64LE(999n, 1024 + 8);
  master.roSlice(0).writeBigUInt64LE(888n, 2048 + 8);
  const repaired = await eventually(() => remote.mo.readBigUInt64LE(1024 + 8) === 11n && master.roSlice(0).readBigUInt64LE(2048 + 8) === 22n, 5000);
  t.ok(repaired, 'both copies were repaired from their owners');
  t.match(c.remotes.get(0)!.stderr(), /digest found divergent pages; resyncing them flow=mo pages=1/);
  t.match(c.master.stderr(), /digest found divergent pages; resyncing them client=0 flow=ro pages=1/);
});

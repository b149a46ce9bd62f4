import t from 'tap';
import { startRelay } from '../fixtures/lossy-relay.js';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

t.test('when only the master-to-remote direction fails long enough for the remote to give up, both sides resync once it heals', async (t) => {
  const c = await startCluster({ remotes: 1, start: [] });
  t.teardown(() => c.destroy());
  const relay = await startRelay({ family: 4, target: { address: '127.0.0.1', port: c.port }, seed: 1 });
  t.teardown(() => relay.close());
  const remoteDaemon = await c.startRemote(0, ['-P', String(relay.port)]);
  const master = c.attachMaster();
  const remote = c.attachRemote(0);
  master.moSlice(0).writeUInt32LE(1, 0);
  remote.ro.writeUInt32LE(1, 0);
  t.ok(await eventually(() => remote.mo.readUInt32LE(0) === 1 && master.roSlice(0).readUInt32LE(0) === 1), 'flowing');

  relay.setLoss({ down: 1 }); // the master still hears the remote; the remote hears nothing
  master.moSlice(0).writeUInt32LE(2, 0);
  remote.ro.writeUInt32LE(2, 0);
  await t.resolves(remoteDaemon.waitFor(/master down; joining again/, 5000), 'the remote gives the master up');
  relay.setLoss({ down: 0 });
  master.moSlice(0).writeUInt32LE(3, 4);
  remote.ro.writeUInt32LE(3, 4);
  t.ok(await eventually(() => sameBytes(master.moSlice(0), remote.mo) && sameBytes(master.roSlice(0), remote.ro), 10_000), 'both directions converge');
  t.equal(remote.mo.readUInt32LE(4), 3);
  t.equal(master.roSlice(0).readUInt32LE(4), 3);
});

import t from 'tap';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

t.test('after SIGKILL of the master mid-stream and a restart, everything converges without restarting the remotes', async (t) => {
  const c = await startCluster({ remotes: 2 });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const r0 = c.attachRemote(0);
  const r1 = c.attachRemote(1);
  let i = 0n;
  const write = (): void => {
    i++;
    r0.ro.writeBigUInt64LE(i, 8);
    r1.ro.writeBigUInt64LE(i, 16);
    master.moSlice(0).writeBigUInt64LE(i, 24);
    master.moSlice(1).writeBigUInt64LE(i, 32);
  };
  const writer = setInterval(write, 5);
  t.teardown(() => clearInterval(writer));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await c.master.stop('SIGKILL'), 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  await c.startMaster();
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(writer);
  const converged = await eventually(
    () =>
      sameBytes(master.roSlice(0), r0.ro) && sameBytes(master.roSlice(1), r1.ro) && sameBytes(master.moSlice(0), r0.mo) && sameBytes(master.moSlice(1), r1.mo),
    15_000,
  );
  t.ok(converged, 'all slices equal on both sides');
  t.equal(master.roSlice(1).readBigUInt64LE(16), i, 'the last value written arrived');
  t.match(c.remotes.get(0)!.stderr(), /joined master/, 'remote 0 re-joined');
  t.equal(c.remotes.get(0)!.child.exitCode, null, 'remote 0 was not restarted');
});

t.test('after SIGKILL of a remote mid-stream and a restart, everything converges', async (t) => {
  const c = await startCluster({ remotes: 2 });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const r1 = c.attachRemote(1);
  let i = 0n;
  const writer = setInterval(() => {
    i++;
    r1.ro.writeBigUInt64LE(i, 8);
    master.moSlice(1).writeBigUInt64LE(i, 40);
  }, 5);
  t.teardown(() => clearInterval(writer));
  await new Promise((r) => setTimeout(r, 300));
  await c.remotes.get(1)!.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  await c.startRemote(1);
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(writer);
  const converged = await eventually(() => sameBytes(master.roSlice(1), r1.ro) && sameBytes(master.moSlice(1), r1.mo), 15_000);
  t.ok(converged, 'slice 1 equals remote 1 both ways');
  t.equal(r1.mo.readBigUInt64LE(40), i, 'the last MO value arrived');
  t.match(c.master.stderr(), /remote joined client=1[\s\S]*remote joined client=1/, 'the master saw remote 1 join twice');
});

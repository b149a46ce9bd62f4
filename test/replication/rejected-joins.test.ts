import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';
import { eventually, startCluster } from '../fixtures/cluster.js';

t.test('a remote whose size differs is rejected, exits 1 naming both values, and the master keeps serving the others', async (t) => {
  const c = await startCluster({ remotes: 2, start: [0] });
  t.teardown(() => c.destroy());
  const bad = startDaemon(BIN.remote, c.remoteArgs(1, ['-s', '8192']));
  t.equal(await bad.exited, 1, 'the remote exits 1');
  t.match(bad.stderr(), /rejected this remote \(seg-size\): segment size \(-s\): the master has 4096, this remote has 8192/);
  t.match(c.master.stderr(), /rejected remote client=1 .*reason=seg-size expected=4096 offered=8192/, 'the master logs it');
  const master = c.attachMaster();
  const r0 = c.attachRemote(0);
  master.moSlice(0).writeUInt32LE(99, 0);
  t.ok(await eventually(() => r0.mo.readUInt32LE(0) === 99), 'remote 0 is still served');
});

for (const [what, args, pattern] of [
  ['page size', ['--page-size', '2048'], /\(page-size\): page size \(--page-size\): the master has 1024, this remote has 2048/],
  ['word size', ['-w', '4'], /\(word-size\): word size \(-w\): the master has 8, this remote has 4/],
] as const) {
  t.test(`a remote whose ${what} differs is rejected and exits 1 naming both values`, async (t) => {
    const c = await startCluster({ remotes: 1, start: [] });
    t.teardown(() => c.destroy());
    const bad = startDaemon(BIN.remote, c.remoteArgs(0, [...args]));
    t.equal(await bad.exited, 1);
    t.match(bad.stderr(), pattern);
  });
}

t.test('a client id out of the master\'s range is rejected and logged', async (t) => {
  const c = await startCluster({ remotes: 2, start: [] });
  t.teardown(() => c.destroy());
  // Its own registry folder, so only the master can tell that the id is out of range.
  const other = testPlace();
  t.teardown(() => other.cleanup());
  const args = c.remoteArgs(5).map((a) => (a === c.place.dir ? other.dir : a));
  const bad = startDaemon(BIN.remote, args);
  t.equal(await bad.exited, 1);
  t.match(bad.stderr(), /rejected this remote \(client-id\): client id \(-n\): the master has 2, this remote has 5/);
  t.match(c.master.stderr(), /rejected remote client=5 .*reason=client-id/);
});

t.test('a remote that is not its Clientname\'s host is rejected and logged', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const conf = join(place.dir, 'clients.conf');
  writeFileSync(conf, 'Clientname=127.0.0.1\nClientname=127.0.0.3\n');
  const c = await startCluster({ remotes: 2, start: [], masterArgs: ['-g', conf, '-p', '2'] });
  t.teardown(() => c.destroy());
  await c.startRemote(0, ['-L', '127.0.0.1']);
  t.match(c.master.stderr(), /remote joined client=0 address=127\.0\.0\.1:\d+/, 'client 0 from 127.0.0.1, its Clientname, joins');
  const bad = startDaemon(BIN.remote, c.remoteArgs(1, ['-L', '127.0.0.2']));
  t.equal(await bad.exited, 1);
  t.match(bad.stderr(), /rejected this remote \(address\): 127\.0\.0\.2 is not 127\.0\.0\.3 \(Clientname of client 1\)/);
  t.match(c.master.stderr(), /rejected remote client=1 from=127\.0\.0\.2:\d+ reason=address/);
});

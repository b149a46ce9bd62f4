import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { writeKey } from '../fixtures/keys.js';
import { statusJson } from '../fixtures/admin.js';

// Without a key a REJECT cannot be authenticated (anyone could have sent it), so a rejected
// remote logs why, shows it in status and keeps trying with back-off (spec §4.3, §13).

t.test('a remote whose size differs is rejected, says both values in its log and status, keeps trying, and the master keeps serving the others', async (t) => {
  const c = await startCluster({ remotes: 2, start: [0] });
  t.teardown(() => c.destroy());
  const bad = startDaemon(BIN.remote, c.remoteArgs(1, ['-s', '8192']));
  t.teardown(() => bad.stop('SIGKILL'));
  await bad.waitFor(/rejected this remote \(seg-size\): segment size \(-s\): the master has 4096, this remote has 8192.*retry_in_s=/, 15_000);
  // The two daemons' stderr reach this process on separate pipes: wait for the master's line too.
  t.ok(await eventually(() => /rejected remote client=1 .*reason=seg-size expected=4096 offered=8192/.test(c.master.stderr()), 10_000), 'the master logs it');
  t.equal(bad.child.exitCode, null, 'the remote keeps running');
  t.ok(
    await eventually(() => {
      try {
        return /seg-size/.test(statusJson(c.place.dir, 1).peers[0]?.problem ?? '');
      } catch {
        return false;
      }
    }, 10_000),
    'pdsm status shows why',
  );
  const master = c.attachMaster();
  const r0 = c.attachRemote(0);
  master.moSlice(0).writeUInt32LE(99, 0);
  t.ok(await eventually(() => r0.mo.readUInt32LE(0) === 99), 'remote 0 is still served');
});

for (const [what, args, pattern] of [
  ['page size', ['--page-size', '2048'], /\(page-size\): page size \(--page-size\): the master has 1024, this remote has 2048/],
  ['word size', ['-w', '4'], /\(word-size\): word size \(-w\): the master has 8, this remote has 4/],
] as const) {
  t.test(`a remote whose ${what} differs is rejected and names both values`, async (t) => {
    const c = await startCluster({ remotes: 1, start: [] });
    t.teardown(() => c.destroy());
    const bad = startDaemon(BIN.remote, c.remoteArgs(0, [...args]));
    t.teardown(() => bad.stop('SIGKILL'));
    await bad.waitFor(pattern, 15_000);
    t.equal(bad.child.exitCode, null, 'and keeps trying');
  });
}

t.test('with a key, the REJECT is authenticated: a remote whose size differs exits 1 naming both values', async (t) => {
  const keyDir = mkdtempSync(join(tmpdir(), 'pdsm-key-'));
  t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
  const key = writeKey(keyDir).path;
  const c = await startCluster({ remotes: 1, start: [], masterArgs: ['--psk-file', key] });
  t.teardown(() => c.destroy());
  const bad = startDaemon(BIN.remote, c.remoteArgs(0, ['-s', '8192', '--psk-file', key]));
  t.equal(await Promise.race([bad.exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000).unref())]), 1);
  t.match(bad.stderr(), /rejected this remote \(seg-size\): segment size \(-s\): the master has 4096, this remote has 8192/);
});

t.test("a client id out of the master's range is rejected and logged", async (t) => {
  const c = await startCluster({ remotes: 2, start: [] });
  t.teardown(() => c.destroy());
  // Its own registry folder, so only the master can tell that the id is out of range.
  const other = testPlace();
  t.teardown(() => other.cleanup());
  const args = c.remoteArgs(5).map((a) => (a === c.place.dir ? other.dir : a));
  const bad = startDaemon(BIN.remote, args);
  t.teardown(() => bad.stop('SIGKILL'));
  await bad.waitFor(/rejected this remote \(client-id\): client id \(-n\): the master has 2, this remote has 5/, 15_000);
  t.ok(await eventually(() => /rejected remote client=5 .*reason=client-id/.test(c.master.stderr()), 10_000), 'the master logs it');
});

t.test("a remote that is not its Clientname's host is rejected and logged", async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const conf = join(place.dir, 'clients.conf');
  writeFileSync(conf, 'Clientname=127.0.0.1\nClientname=127.0.0.3\n');
  const c = await startCluster({ remotes: 2, start: [], masterArgs: ['-g', conf, '-p', '2'] });
  t.teardown(() => c.destroy());
  await c.startRemote(0, ['-L', '127.0.0.1']);
  // The master says joined once the remote's cookie echo validated its address (spec §9.6), a little after the remote.
  t.ok(
    await eventually(() => /remote joined client=0 address=127\.0\.0\.1:\d+/.test(c.master.stderr()), 10_000),
    'client 0 from 127.0.0.1, its Clientname, joins',
  );
  const bad = startDaemon(BIN.remote, c.remoteArgs(1, ['-L', '127.0.0.2']));
  t.teardown(() => bad.stop('SIGKILL'));
  await bad.waitFor(/rejected this remote \(address\): 127\.0\.0\.2 is not 127\.0\.0\.3 \(Clientname of client 1\)/, 15_000);
  t.ok(await eventually(() => /rejected remote client=1 from=127\.0\.0\.2:\d+ reason=address/.test(c.master.stderr()), 10_000), 'the master logs it');
});

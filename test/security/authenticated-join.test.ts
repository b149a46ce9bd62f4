import t from 'tap';
import { BIN, startDaemon } from '../fixtures/daemon.js';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { writeKey } from '../fixtures/keys.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const keyDir = mkdtempSync(join(tmpdir(), 'pdsm-key-'));
t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
const key = writeKey(keyDir).path;
const other = writeKey(keyDir, 'other.key').path;

t.test('with the same key on both sides, replication works and the start says so', async (t) => {
  const c = await startCluster({ remotes: 1, masterArgs: ['--psk-file', key], remoteArgs: ['--psk-file', key], env: { PDSM_DEBUG: 'pdsm:udp' } });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  const r = c.attachRemote(0);
  m.moSlice(0).writeUInt32LE(77, 8);
  r.ro.writeUInt32LE(88, 16);
  t.ok(await eventually(() => r.mo.readUInt32LE(8) === 77 && m.roSlice(0).readUInt32LE(16) === 88), 'both directions flow');
  t.match(c.master.stderr(), /datagrams are authenticated and encrypted/);
  t.notMatch(c.master.stderr(), /unauthenticated/);
});

t.test('a remote without the key is rejected with a clear message on both sides, and keeps trying (an unsealed REJECT may be forged)', async (t) => {
  const c = await startCluster({ remotes: 1, start: [], masterArgs: ['--psk-file', key] });
  t.teardown(() => c.destroy());
  const r = startDaemon(BIN.remote, c.remoteArgs(0));
  t.teardown(() => r.stop('SIGKILL'));
  await r.waitFor(/the master requires authentication: start this remote with --psk-file and the master's key/, 15_000);
  t.equal(r.child.exitCode, null, 'the remote keeps running');
  t.match(c.master.stderr(), /rejected remote client=0 .*reason=auth-required/);
});

t.test('a remote with another key never joins; the master counts its datagrams as failing authentication and the remote says why it may be', async (t) => {
  const c = await startCluster({ remotes: 1, start: [], masterArgs: ['--psk-file', key] });
  t.teardown(() => c.destroy());
  const r = startDaemon(BIN.remote, c.remoteArgs(0, ['--psk-file', other]));
  t.teardown(() => r.stop('SIGKILL'));
  t.ok(await eventually(() => /dropped datagram reason=auth-auth/.test(c.master.stderr()), 5000), 'the master drops and counts them');
  t.ok(await eventually(() => /no answer from the master yet; .*same --psk-file/.test(r.stderr()), 15_000), 'the remote hints at the key');
  t.notMatch(c.master.stderr(), /remote joined/);
});

t.test('without a key, both daemons warn at start that the network side is unauthenticated', async (t) => {
  const c = await startCluster({ remotes: 1 });
  t.teardown(() => c.destroy());
  t.match(c.master.stderr(), /warn pdsm_master: the network side is unauthenticated/);
  t.match(c.remotes.get(0)!.stderr(), /warn pdsm_remote: the network side is unauthenticated/);
});

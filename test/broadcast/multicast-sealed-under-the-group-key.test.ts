// spec §9.2 group key: with a key, the master's multicast BC (Dst ALL) is sealed under a key
// from its per-process GROUP_NONCE, which every remote learns from its WELCOME.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';
import { writeKey } from '../fixtures/keys.js';

const keyDir = mkdtempSync(join(tmpdir(), 'pdsm-key-'));
t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
const key = writeKey(keyDir).path;

t.test('with a key, BC goes to the group sealed under the group key and every remote opens it', async (t) => {
  const group = `239.${Math.floor(Math.random() * 200) + 20}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
  const c = await startCluster({
    remotes: 2,
    masterArgs: ['-b', '8K', '-m', group, '--multicast-if', '127.0.0.1', '--psk-file', key],
    remoteArgs: ['--multicast-if', '127.0.0.1', '--psk-file', key],
    env: { PDSM_DEBUG: 'pdsm:udp' },
  });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const r = [0, 1].map((n) => c.attachRemote(n));
  t.ok(await eventually(() => r.every((x) => x.bc !== undefined && sameBytes(x.bc, master.bc!))), "the joins' full batches arrived");
  const before = c.master.stderr().length;
  const seen = r.map((_, n) => c.remotes.get(n)!.stderr().length);
  master.bc!.writeBigUInt64LE(77n, 2 * 1024 + 16);
  t.ok(await eventually(() => r.every((x) => x.bc?.readBigUInt64LE(2 * 1024 + 16) === 77n)), 'both remotes see the change');
  t.match(
    c.master.stderr().slice(before),
    new RegExp(`send ${group.replace(/\./g, '\\.')}:\\d+ data src=65535 dst=65534 .*flow=bc .*page=2 `),
    'the page went to the group',
  );
  for (const n of [0, 1]) {
    const log = c.remotes.get(n)!.stderr().slice(seen[n]);
    t.match(log, /recv \S+ data src=65535 dst=65534 .*flow=bc .*page=2 /, `remote ${n} opened the multicast datagram`);
  }
});

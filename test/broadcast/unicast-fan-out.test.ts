import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

t.test("without -m, a change in the master's BC reaches every remote's BC by unicast fan-out, and a late remote gets all of it", async (t) => {
  const c = await startCluster({ remotes: 3, start: [0, 1], masterArgs: ['-b', '8K'], env: { PDSM_DEBUG: 'pdsm:udp' } });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  t.ok(master.bc, 'the master lists BC');
  t.match(
    readFileSync(join(c.place.dir, 'pdsm_master_registry'), 'utf8'),
    /^PDSM_MO_key .*\nPDSM_RO_key .*\nPDSM_BC_key 0x[0-9a-f]+ PDSM_BC_size 8192\nPDSM_ST_key/,
    'the master registry lists BC after MO and RO',
  );
  master.bc!.writeBigUInt64LE(7n, 0);
  master.bc!.writeBigUInt64LE(8n, 5000);
  const r = [c.attachRemote(0), c.attachRemote(1)];
  t.match(
    readFileSync(join(c.place.dir, 'pdsm_registry_client_0'), 'utf8'),
    /^PDSM_MO_key .*\nPDSM_RO_key .*\nPDSM_BC_key 0x[0-9a-f]+ PDSM_BC_size 8192\nPDSM_ST_key/,
    'remotes list BC after MO and RO',
  );
  t.ok(await eventually(() => r.every((x) => x.bc !== undefined && sameBytes(x.bc, master.bc!))), "remotes 0 and 1 have the master's BC");

  // One more page changes: count the BC DATA the master sends for it.
  const before = c.master.stderr().length;
  master.bc!.writeBigUInt64LE(9n, 1024 + 16);
  t.ok(await eventually(() => r.every((x) => x.bc!.readBigUInt64LE(1024 + 16) === 9n)));
  await new Promise((res) => setTimeout(res, 200));
  const sent = [
    ...c.master
      .stderr()
      .slice(before)
      .matchAll(/send (\S+) data src=65535 dst=(\d+) .*flow=bc .*page=1 /g),
  ];
  t.equal(sent.length, 2, 'by unicast the changed page goes once to each remote');
  t.same(sent.map((m) => m[2]).sort(), ['0', '1']);

  await c.startRemote(2);
  const late = c.attachRemote(2);
  t.ok(await eventually(() => late.bc !== undefined && sameBytes(late.bc, master.bc!)), 'the late remote has the whole BC');
  t.ok(
    r.every((x) => sameBytes(x.bc!, master.bc!)),
    'the others still agree',
  );
});

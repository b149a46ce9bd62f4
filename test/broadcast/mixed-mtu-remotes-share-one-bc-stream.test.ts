// spec §8.1: remotes of different session MTUs share one BC stream, cut for the smallest:
// with a remote at --mtu 576 beside one at 1200, both converge on the master's BC and every
// BC DATA the master sends either of them carries at most 536 bytes; once the small remote
// leaves, the stream goes back to whole 1024-byte pages.
import t from 'tap';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

const bcData = (log: string) =>
  [...log.matchAll(/send \S+ data src=65535 dst=(\d+) .*flow=bc .*page=(\d+) off=(\d+) len=(\d+)/g)].map((m) => ({
    dst: Number(m[1]),
    page: Number(m[2]),
    len: Number(m[4]),
  }));

t.test('a 576-byte remote and a 1200-byte remote share BC, cut for 576 while both are in', async (t) => {
  const c = await startCluster({ remotes: 2, start: [0], masterArgs: ['-b', '8K'], env: { PDSM_DEBUG: 'pdsm:udp' } });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  master.bc!.writeBigUInt64LE(7n, 0);
  const r0 = c.attachRemote(0);
  t.ok(await eventually(() => r0.bc !== undefined && sameBytes(r0.bc, master.bc!)), 'remote 0 (1200) has BC');

  const small = await c.startRemote(1, ['--mtu', '576']);
  const r1 = c.attachRemote(1);
  t.ok(await eventually(() => r1.bc !== undefined && sameBytes(r1.bc, master.bc!)), 'remote 1 (576) has BC');
  const before = c.master.stderr().length;
  master.bc!.fill(0x5a, 2048, 4096); // pages 2 and 3
  t.ok(await eventually(() => [r0, r1].every((r) => sameBytes(r.bc!, master.bc!))), 'both get the change');
  const sent = bcData(c.master.stderr().slice(before)).filter((d) => d.page === 2 || d.page === 3);
  t.same([...new Set(sent.map((d) => d.dst))].sort(), [0, 1], 'the change went to both');
  t.ok(sent.length >= 4, 'two pages, at least two DATA each');
  t.ok(
    sent.every((d) => d.len <= 536),
    `every BC DATA at most 536 bytes (${[...new Set(sent.map((d) => d.len))].join(', ')})`,
  );

  await small.stop('SIGTERM', 3000);
  t.ok(await eventually(() => /remote down client=1/.test(c.master.stderr())), 'the 576 remote left');
  const after = c.master.stderr().length;
  master.bc!.fill(0x6b, 4096, 5120); // page 4
  t.ok(await eventually(() => sameBytes(r0.bc!, master.bc!)), 'remote 0 gets the next change');
  const later = bcData(c.master.stderr().slice(after)).filter((d) => d.page === 4);
  t.same(
    later.map((d) => d.len),
    [1024],
    'one whole-page DATA again',
  );
});

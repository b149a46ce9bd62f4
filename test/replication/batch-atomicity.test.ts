import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeerState } from '../../src/index.js';
import { ROOT } from '../fixtures/daemon.js';
import { eventually, startCluster } from '../fixtures/cluster.js';

t.test('a consistent reader never sees half of a batch, and ST tracks the flow', async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 20 });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();

  // The writer runs until the reader has seen enough batches (a busy machine delivers fewer
  // per second), at most 30 s; then the stop file ends it.
  const stopFile = join(c.place.dir, 'stop-writer');
  const writer = spawn(process.execPath, [join(ROOT, 'test/fixtures/st-writer.mjs'), c.place.dir, '0', '30000', stopFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let written = '';
  writer.stdout.on('data', (d: Buffer) => (written += d.toString()));
  const writerDone = new Promise((r) => writer.on('exit', r));
  t.teardown(() => writer.kill('SIGKILL'));

  let reads = 0;
  let torn = 0;
  const seen = new Set<bigint>();
  const slice = master.roSlice(0);
  const readsFromNs = BigInt(Date.now()) * 1_000_000n;
  const began = Date.now();
  const end = began + 30_000;
  // Read for at least 2 s (the writer's updates race the scans) and until 50 distinct values came.
  while (Date.now() < end && (seen.size <= 50 || Date.now() - began < 2000)) {
    const [a, b] = master.readConsistent(0, () => [slice.readBigUInt64LE(0), slice.readBigUInt64LE(2048)] as const);
    reads++;
    if (a !== b) torn++;
    seen.add(a);
    if (reads % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  writeFileSync(stopFile, '');
  await writerDone;
  const updates = Number(written.trim());
  t.comment(`writer made ${updates} updates; reader made ${reads} reads in ${Date.now() - began} ms and saw ${seen.size} distinct values`);
  t.ok(updates > 10_000, 'the writer made thousands of updates');
  t.ok(seen.size > 20, 'the reader saw many batches arrive');
  t.equal(torn, 0, 'no read saw the two pages differ');

  const ro = master.status('ro', 0);
  t.equal(ro.peerState, PeerState.UP, 'ST says the remote is up');
  t.ok(ro.batches > 20n, 'ST counts the batches applied');
  const nowNs = BigInt(Date.now() + 1) * 1_000_000n; // Date.now() rounds down to the ms
  t.ok(
    ro.lastBatchNs >= readsFromNs && ro.lastBatchNs <= nowNs,
    `the last batch stamp is from while the writer ran (${Number(nowNs - ro.lastBatchNs) / 1e6} ms ago)`,
  );
  t.ok(ro.generation % 2n === 0n, 'the generation is even between batches');

  await c.remotes.get(0)!.stop('SIGKILL');
  const down = await eventually(() => master.status('ro', 0).peerState === PeerState.DOWN, 5000);
  t.ok(down, 'ST says the remote is down after it was killed and the timeout passed');
  t.equal(master.status('mo', 0).peerState, PeerState.DOWN, 'for the outgoing flow too');
});

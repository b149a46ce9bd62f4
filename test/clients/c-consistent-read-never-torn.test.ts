import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { makeLib, missingAny } from '../fixtures/clients.js';

/** Run a program to completion, bounded; resolve with its exit code and output. */
function run(exe: string, args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

// A C writer on remote 0 stores one counter into 8 words of RO spread over four replication
// pages, each update inside pdsm_write_begin/end; a C reader on the master reads those words
// of RO slice 0 with pdsm_read_consistent while the master applies batches. No read may see
// the words differ.
t.test('a C reader on the master never sees a torn record written by a C writer on a remote', { skip: missingAny('cc', 'make') }, async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 20 });
  t.teardown(() => c.destroy());
  const build = makeLib(join(c.place.dir, 'build'), ['tests']);
  const exe = join(build, 'torture');
  const [writer, reader] = await Promise.all([run(exe, ['writer', c.place.dir, '0', '3000'], 30_000), run(exe, ['reader', c.place.dir, '0', '3500'], 30_000)]);
  t.equal(writer.status, 0, `the writer ran (${writer.stderr.trim()})`);
  t.equal(reader.status, 0, `the reader ran (${reader.stderr.trim()})`);
  const updates = Number(writer.stdout.trim());
  const m = /reads (\d+) distinct (\d+) torn (\d+) busy (\d+)/.exec(reader.stdout);
  t.ok(m, `the reader reported: ${reader.stdout.trim()}`);
  const [reads, distinct, torn] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  t.comment(`writer made ${updates} updates; reader made ${reads} reads, saw ${distinct} distinct values`);
  t.ok(updates > 10_000, 'the writer made thousands of updates');
  t.ok(distinct > 20, 'the reader saw many batches arrive');
  t.equal(torn, 0, 'no read saw the words of one update differ');

  // And the last update arrives whole at the master.
  const master = c.attachMaster();
  const slice = master.roSlice(0);
  const arrived = await eventually(
    () => master.readConsistent(0, () => [0, 1, 2, 3, 4, 5, 6, 7].every((w) => slice.readBigUInt64LE(w * 520) === BigInt(updates))),
    10_000,
  );
  t.ok(arrived, 'every word at the master holds the final count');
});

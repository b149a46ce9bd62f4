import t from 'tap';
import { join } from 'node:path';
import { startCluster } from '../fixtures/cluster.js';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

t.test('pdsm flush without a running daemon exits 1 and names the socket', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  for (const [args, socket] of [
    [['flush'], join(place.dir, 'pdsm_master.sock')],
    [['flush', '--client', '3'], join(place.dir, 'pdsm_remote_3.sock')],
  ] as const) {
    const r = runBin(BIN.pdsm, [...args, '-d', place.dir]);
    t.equal(r.status, 1, `${args.join(' ')} exits 1`);
    t.equal(r.stdout, '', 'prints nothing on stdout');
    t.ok(r.stderr.includes(`no daemon answers on ${socket}: no such socket`), `names ${socket}: ${r.stderr}`);
  }
});

t.test("the library's flush names the socket when the daemon is gone or does not answer", async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 60_000 });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  const r = c.attachRemote(0);
  t.same(await m.flush(0), [{ flow: 'mo', client: 0, outcome: 'unchanged', pages: 0 }], 'a flush works while the master runs');

  // Stopped, not dead: the socket is there but nobody answers.
  process.kill(c.master.pid, 'SIGSTOP');
  const socket = join(c.place.dir, 'pdsm_master.sock');
  try {
    await t.rejects(
      m.flush(0, { timeoutMs: 300 }),
      { code: 'PDSM_ERR_NETWORK', message: `no answer from the daemon on ${socket} within 300 ms` },
      'a daemon that does not answer: a bounded wait, then an error naming the socket',
    );
  } finally {
    process.kill(c.master.pid, 'SIGCONT');
  }

  await c.remotes.get(0)!.stop('SIGTERM', 3000);
  await t.rejects(
    r.flush(),
    {
      code: 'PDSM_ERR_NETWORK',
      message: `no daemon answers on ${join(c.place.dir, 'pdsm_remote_0.sock')}: no such socket (not running, or another -d or --client?)`,
    },
    'a stopped remote: the error names its socket',
  );
});

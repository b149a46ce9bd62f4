import t from 'tap';
import { REMOTE_ST } from '../../src/segments/layout.js';
import { StatusRecords } from '../../src/segments/status.js';
import { attachRemote } from '../../src/index.js';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';
import { eventually, startCluster } from '../fixtures/cluster.js';

t.test('a daemon starting on segments where a killed predecessor left an incoming generation odd makes it even', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const first = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1']);
  await first.waitFor(/running/);
  const app = attachRemote({ registryDir: place.dir, clientId: 0 });
  t.teardown(() => app.detach());
  await first.stop('SIGKILL');
  // As if the kill landed between the two bumps of an apply: MO in is odd; RO out is the
  // applications' and stays as they left it.
  const st = new StatusRecords(app.st!, REMOTE_ST.COUNT);
  st.bump(REMOTE_ST.MO_IN);
  st.bump(REMOTE_ST.RO_OUT);
  t.equal(app.status('mo').generation % 2n, 1n);
  const second = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1']);
  t.teardown(() => second.stop('SIGKILL'));
  await second.waitFor(/running/);
  t.equal(app.status('mo').generation % 2n, 0n, 'MO in is even again');
  t.equal(app.status('ro').generation % 2n, 1n, "RO out, the writers' generation, is left alone");
  t.equal(
    app.readConsistent('mo', () => app.mo.readUInt32LE(0), { timeoutMs: 200 }),
    0,
    'consistent reads work',
  );
});

t.test("a writers' generation left odd stops its flow and the daemon says so", async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 20 });
  t.teardown(() => c.destroy());
  const app = c.attachRemote(0);
  const st = new StatusRecords(app.st!, REMOTE_ST.COUNT);
  st.bump(REMOTE_ST.RO_OUT); // a writer "died" mid-update
  const master = c.attachMaster();
  app.ro.writeUInt32LE(5, 0);
  await c.remotes.get(0)!.waitFor(/writers keep the flow's ST generation odd or moving; .* flow=ro st_record=2 intervals=10/, 5000);
  t.equal(master.roSlice(0).readUInt32LE(0), 0, 'nothing was sent meanwhile');
  st.bump(REMOTE_ST.RO_OUT);
  t.ok(await eventually(() => master.roSlice(0).readUInt32LE(0) === 5), 'once even, the update travels');
});

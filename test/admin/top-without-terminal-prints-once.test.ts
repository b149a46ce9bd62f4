import t from 'tap';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('pdsm top without a terminal prints one view and exits 0', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '1', '-H', '127.0.0.1', '-P', '9']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);

  const r = runBin(BIN.pdsm, ['top', '-d', place.dir, '--client', '1'], { timeoutMs: 10_000 });
  t.equal(r.status, 0);
  t.notMatch(r.stdout, /\x1b/, 'no escape codes');
  t.match(r.stdout, new RegExp(`^pdsm_remote 1  pid ${remote.pid}  epoch 0x[0-9a-f]{8}  up \\d+s +q: quit\\n`));
  t.match(r.stdout, /^master +joining /m, 'the master has not answered (port 9)');
  for (const line of r.stdout.split('\n')) t.ok(line.length < 80, `fits 80 columns: ${line}`);
});

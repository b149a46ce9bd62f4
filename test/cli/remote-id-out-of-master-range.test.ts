import t from 'tap';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test("a remote whose -n is outside the local master's remote count exits 2 naming -n", async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const master = startDaemon(BIN.master, [...place.args, '-p', '2']);
  t.teardown(() => master.stop('SIGKILL'));
  await master.waitFor(/running/);
  const r = runBin(BIN.remote, [...place.args, '-n', '2']);
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, /-n\/--client-id: 2 is out of range: the master .* serves 2 remote\(s\), ids 0\.\.1/);
});

import t from 'tap';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('a second daemon of the same role and id refuses to start', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const first = startDaemon(BIN.remote, [...place.args, '-n', '1', '-H', '127.0.0.1']);
  t.teardown(() => first.stop('SIGKILL'));
  await first.waitFor(/running/);

  const second = runBin(BIN.remote, [...place.args, '-n', '1', '-H', '127.0.0.1']);
  t.equal(second.status, 1, second.stderr);
  t.match(second.stderr, new RegExp(`pdsm_remote 1 is already running \\(pid ${first.pid}\\)`));

  const removal = runBin(BIN.remote, [...place.args, '-n', '1', '-r']);
  t.equal(removal.status, 1, '-r refuses while the daemon runs');
  t.match(removal.stderr, /is running .* stop it before removing/);

  const other = startDaemon(BIN.remote, [...place.args, '-n', '2', '-H', '127.0.0.1']);
  t.teardown(() => other.stop('SIGKILL'));
  await other.waitFor(/running/);
  t.equal(other.child.exitCode, null, 'another client id on the same host starts and runs');
  t.notMatch(other.stderr(), /already running/, 'without being taken for the first one');
  t.equal(first.child.exitCode, null, 'the first one still runs');
});

t.test('a daemon killed with SIGKILL does not block its successor', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const first = startDaemon(BIN.master, [...place.args, '-p', '1']);
  await first.waitFor(/running/);
  t.equal(await first.stop('SIGKILL'), 'SIGKILL');
  const next = startDaemon(BIN.master, [...place.args, '-p', '1']);
  t.teardown(() => next.stop('SIGKILL'));
  await next.waitFor(/running/);
  t.equal(next.child.exitCode, null, 'the successor runs');
  t.notMatch(next.stderr(), /already running/, "the dead predecessor's owner record did not stop it");
  t.not(next.pid, first.pid, 'a new process');
});

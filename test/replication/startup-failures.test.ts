import t from 'tap';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';
import { freeUdpPort } from '../fixtures/cluster.js';

t.test('an unresolvable -H exits 1 naming the host', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const r = runBin(BIN.remote, [...place.args, '-n', '0', '-H', 'no-such-host.invalid']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /cannot resolve no-such-host\.invalid to an IPv4 address/);
});

t.test('a port in use exits 1 naming the port', async (t) => {
  const a = testPlace();
  const b = testPlace();
  t.teardown(() => {
    a.cleanup();
    b.cleanup();
  });
  const port = String(await freeUdpPort());
  const first = startDaemon(BIN.master, [...a.args, '-P', port, '-L', '127.0.0.1']);
  t.teardown(() => first.stop('SIGKILL'));
  await first.waitFor(/running/);
  const r = runBin(BIN.master, [...b.args, '-P', port, '-L', '127.0.0.1']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, new RegExp(`UDP port ${port} on 127\\.0\\.0\\.1 is in use`));
});

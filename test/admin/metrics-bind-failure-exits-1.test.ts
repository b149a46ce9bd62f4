import t from 'tap';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

t.test('a --metrics port that cannot be bound exits 1 naming host:port', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => busy.close());
  const address = busy.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const r = runBin(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1', '-P', '9', '--metrics', `127.0.0.1:${port}`]);
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`--metrics: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  t.notOk(existsSync(join(place.dir, 'pdsm_registry_client_0')), 'no registry: the node was never announced');
  t.notOk(existsSync(join(place.dir, 'pdsm_remote_0.sock')), 'no control socket left behind');
});

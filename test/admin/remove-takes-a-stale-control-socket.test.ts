import t from 'tap';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('-r removes the control socket a killed daemon left behind', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const socket = join(place.dir, 'pdsm_remote_1.sock');
  const args = [...place.args, '-n', '1', '-H', '127.0.0.1', '-P', '9'];
  const remote = startDaemon(BIN.remote, args);
  await remote.waitFor(/running/);
  t.equal(await remote.stop('SIGKILL'), 'SIGKILL');
  t.ok(lstatSync(socket).isSocket(), 'left behind');

  const r = runBin(BIN.remote, [...args, '-r']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /removed what=\S+pdsm_remote_1\.sock/);
  t.notOk(existsSync(socket), 'gone');
});

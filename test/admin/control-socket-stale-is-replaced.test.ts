import t from 'tap';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('a stale control socket left by SIGKILL is replaced at start and removed on a clean stop', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const socket = join(place.dir, 'pdsm_remote_2.sock');
  const args = [...place.args, '-n', '2', '-H', '127.0.0.1', '-P', '9'];

  const first = startDaemon(BIN.remote, args);
  await first.waitFor(/running/);
  t.equal(await first.stop('SIGKILL'), 'SIGKILL');
  t.ok(lstatSync(socket).isSocket(), 'SIGKILL leaves the socket behind');
  const stale = runBin(BIN.pdsm, ['status', '-d', place.dir, '--client', '2']);
  t.equal(stale.status, 1);
  t.match(stale.stderr, /nobody listens \(a stale socket\)/);

  const second = startDaemon(BIN.remote, args);
  t.teardown(() => second.stop('SIGKILL'));
  await second.waitFor(/running/);
  const r = runBin(BIN.pdsm, ['status', '--json', '-d', place.dir, '--client', '2']);
  t.equal(r.status, 0, 'the new daemon answers on the same path');
  t.equal((JSON.parse(r.stdout) as { pid: number }).pid, second.pid);

  t.equal(await second.stop('SIGTERM'), 0);
  t.notOk(existsSync(socket), 'a clean stop removes the socket');
});

import t from 'tap';
import { lstatSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';
import { freeUdpPort } from '../fixtures/cluster.js';

t.test('a symlink or a regular file where the control socket goes is refused and left alone', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const socket = join(place.dir, 'pdsm_master.sock');
  const args = [...place.args, '-p', '1', '-P', String(await freeUdpPort()), '-L', '127.0.0.1'];

  symlinkSync(join(place.dir, 'elsewhere'), socket);
  const link = runBin(BIN.master, args, { timeoutMs: 10_000 });
  t.equal(link.status, 1, 'exit 1');
  t.match(link.stderr, /control socket \S+pdsm_master\.sock is a symlink; refusing/);
  t.equal(readlinkSync(socket), join(place.dir, 'elsewhere'), 'the symlink is untouched');
  t.notMatch(link.stderr, /registry written/, 'refused before the registry says the node is served');

  t.ok(lstatSync(socket).isSymbolicLink());
  unlinkSync(socket); // the link itself
  writeFileSync(socket, 'precious');
  const file = runBin(BIN.master, args, { timeoutMs: 10_000 });
  t.equal(file.status, 1);
  t.match(file.stderr, /control socket \S+pdsm_master\.sock exists and is not a socket; refusing/);
  t.equal(readFileSync(socket, 'utf8'), 'precious', 'the file is untouched');
});

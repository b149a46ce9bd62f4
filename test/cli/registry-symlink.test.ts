import t from 'tap';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

t.test('a registry path that is a symlink is refused and nothing is followed', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const victim = join(place.dir, 'victim');
  writeFileSync(victim, 'do not touch\n');
  symlinkSync(victim, join(place.dir, 'pdsm_master_registry'));
  const r = runBin(BIN.master, [...place.args, '-p', '1']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /registry file .*pdsm_master_registry is a symlink; refusing to follow it/);
  t.equal(readFileSync(victim, 'utf8'), 'do not touch\n');
  t.ok(lstatSync(join(place.dir, 'pdsm_master_registry')).isSymbolicLink(), 'the symlink itself is left');

  const rm = runBin(BIN.master, [...place.args, '-p', '1', '-r']);
  t.equal(rm.status, 1, '-r refuses it too');
  t.match(rm.stderr, /is a symlink/);
  t.equal(readFileSync(victim, 'utf8'), 'do not touch\n');
});

t.test('a registry path that is not a regular file is refused', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  mkdirSync(join(place.dir, 'pdsm_registry_client_0'));
  const r = runBin(BIN.remote, [...place.args, '-n', '0']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /pdsm_registry_client_0 is not a regular file/);
});

// Issue 19.4: the key file is opened once without following a symbolic link, checked on the
// open file (type, owner, mode), and read before the daemon creates any segment.
import t from 'tap';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { masterKeys, remoteKeys } from '../../src/segments/layout.js';
import { findSegment } from '../../src/segments/segment.js';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';
import { writeKey } from '../fixtures/keys.js';

t.test('a symbolic link to a good key file is refused, naming the link', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const good = writeKey(place.dir, 'good.key');
  const link = join(place.dir, 'link.key');
  symlinkSync(good.path, link);
  const r = runBin(BIN.master, [...place.args, '--psk-file', link, '-L', '127.0.0.1']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /--psk-file .*link\.key: is a symbolic link; give the key file itself/);
});

t.test('a bad key file stops the daemon before it creates any segment', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const open = writeKey(place.dir, 'open.key', 32, 0o644);
  for (const [bin, keys, where] of [
    [BIN.master, masterKeys(place.keyBase), ['-L', '127.0.0.1']],
    [BIN.remote, remoteKeys(0, place.keyBase), ['-n', '0', '-H', '127.0.0.1']],
  ] as const) {
    const r = runBin(bin, [...place.args, '--psk-file', open.path, ...where]);
    t.equal(r.status, 1, r.stderr);
    t.match(r.stderr, /is readable or writable by group or others/);
    t.same(
      Object.values(keys).filter((k) => findSegment(k) !== undefined),
      [],
      'no segment of this node exists',
    );
  }
});

t.test('a key file owned by another user is refused', { skip: process.geteuid?.() === 0 ? false : 'needs root to give a file away' }, async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const theirs = writeKey(place.dir, 'theirs.key');
  const { chownSync } = await import('node:fs');
  chownSync(theirs.path, 65534, 65534);
  const r = runBin(BIN.master, [...place.args, '--psk-file', theirs.path, '-L', '127.0.0.1']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /--psk-file .*theirs\.key: is owned by uid 65534, not by this daemon's user \(uid 0\)/);
});

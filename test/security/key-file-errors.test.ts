import t from 'tap';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';
import { writeKey } from '../fixtures/keys.js';

t.test('a key file that is unsafe or unusable stops the daemon with exit 1 naming the file and the problem', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const open = writeKey(place.dir, 'group.key', 32, 0o640);
  const world = writeKey(place.dir, 'world.key', 32, 0o604);
  const short = writeKey(place.dir, 'short.key', 31);
  mkdirSync(join(place.dir, 'dir.key'));
  const cases: [string, string, RegExp][] = [
    ['master', open.path, /--psk-file .*group\.key: is readable or writable by group or others \(mode 0640\); run chmod 600 on it/],
    ['remote', world.path, /--psk-file .*world\.key: is readable or writable by group or others \(mode 0604\)/],
    ['master', short.path, /--psk-file .*short\.key: holds 31 bytes; a key needs at least 32 random bytes/],
    ['remote', join(place.dir, 'missing.key'), /--psk-file .*missing\.key: cannot read it: ENOENT/],
    ['master', join(place.dir, 'dir.key'), /--psk-file .*dir\.key: is not a regular file/],
  ];
  for (const [role, path, message] of cases) {
    const where = role === 'master' ? ['-L', '127.0.0.1', '-P', '1'] : ['-H', '127.0.0.1'];
    const r = runBin(role === 'master' ? BIN.master : BIN.remote, [...place.args, '--psk-file', path, ...where]);
    t.equal(r.status, 1, `${role} with ${path}: ${r.stderr}`);
    t.match(r.stderr, message);
  }
});

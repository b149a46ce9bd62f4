// Issue 19.10: a daemon re-attaches only segments that its own user owns with no wider mode
// than --mode; a segment a local user created first (to read or remove the data later) is
// refused with an error naming owner and mode, and left untouched.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { masterKeys } from '../../src/segments/layout.js';
import { native } from '../../src/segments/native.js';
import { findSegment } from '../../src/segments/segment.js';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

// -p 1 -s 4096: MO is one 4096-byte slice.
const SIZE = 4096;

t.test('a segment with a wider mode than --mode is refused and left alone', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const mo = masterKeys(place.keyBase).MO;
  const id = native.get(mo, SIZE, 0o666, true, true);
  const r = runBin(BIN.master, [...place.args, '-p', '1', '-s', String(SIZE), '--mode', '0600', '-L', '127.0.0.1']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, new RegExp(`MO segment key 0x${mo.toString(16)} exists owned by uid \\d+ with mode 0666; this daemon \\(uid \\d+, --mode 0600\\)`));
  t.equal(findSegment(mo), id, 'the segment is still there');
  t.equal(native.stat(id).mode, 0o666, 'untouched');
});

// The other user runs the system python3 (a per-user install may not be theirs to run).
const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/python3'];
const nobody = process.geteuid?.() === 0 && spawnSync('setpriv', [...AS_NOBODY, '-c', '0']).status === 0;

t.test(
  'a segment another user created is refused even with the same mode',
  { skip: nobody ? false : 'needs root, setpriv and /usr/bin/python3 to create a segment as another user' },
  async (t) => {
    const place = testPlace();
    t.teardown(() => place.cleanup());
    const mo = masterKeys(place.keyBase).MO;
    const py = `import ctypes; l = ctypes.CDLL(None, use_errno=True); r = l.shmget(${mo}, ${SIZE}, 0o1000 | 0o2000 | 0o666); exit(0 if r >= 0 else 1)`;
    const made = spawnSync('setpriv', [...AS_NOBODY, '-c', py], { encoding: 'utf8' });
    t.equal(made.status, 0, `the other user created it: ${made.stderr}`);
    const r = runBin(BIN.master, [...place.args, '-p', '1', '-s', String(SIZE), '-L', '127.0.0.1']);
    t.equal(r.status, 1, r.stderr);
    t.match(r.stderr, /MO segment key 0x[0-9a-f]+ exists owned by uid 65534 with mode 0666/);
    t.equal(native.stat(findSegment(mo)!).uid, 65534, 'left to its owner');
  },
);

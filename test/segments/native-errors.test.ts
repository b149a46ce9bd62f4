// Failing system calls surface as Node-style errors: `code` (the errno name), `errno` (the
// positive errno value of errno.h, unlike libuv's negative ones) and `syscall`.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import t from 'tap';
import { native } from '../../src/segments/native.js';
import { nodeCommand } from '../fixtures/node-command.js';

const node = nodeCommand();
import { createSegment, uniqueKey } from '../fixtures/shm.js';

/** The id of a segment that existed and is gone (shmids are not reused soon after). */
function removedId(): number {
  const id = native.get(uniqueKey(), 4096, 0o600, true, true);
  native.remove(id);
  return id;
}

t.test('opening a key that has no segment, without create, fails with ENOENT from shmget', async (t) => {
  const err = t.throws(() => native.get(uniqueKey(), 4096, 0o600, false, false), {
    name: 'Error',
    code: 'ENOENT',
    errno: constants.errno.ENOENT,
    syscall: 'shmget',
  });
  t.match(err, { message: /^shmget ENOENT: / });
});

t.test('creating the same key twice with exclusive fails with EEXIST from shmget', async (t) => {
  const key = uniqueKey();
  createSegment(t, 4096, { key });
  const err = t.throws(() => native.get(key, 4096, 0o600, true, true), {
    code: 'EEXIST',
    errno: constants.errno.EEXIST,
    syscall: 'shmget',
  });
  t.match(err, { message: /^shmget EEXIST: File exists$/ });
});

t.test('opening an existing segment with a bigger size fails with EINVAL from shmget', async (t) => {
  const key = uniqueKey();
  createSegment(t, 4096, { key });
  t.throws(() => native.get(key, 8192, 0o600, false, false), {
    code: 'EINVAL',
    errno: constants.errno.EINVAL,
    syscall: 'shmget',
  });
  t.throws(() => native.get(key, 8192, 0o600, true, false), { code: 'EINVAL' }, 'with create too');
});

t.test('attaching a removed segment fails with EINVAL from shmat', async (t) => {
  t.throws(() => native.attach(removedId(), false), {
    code: 'EINVAL',
    errno: constants.errno.EINVAL,
    syscall: 'shmat',
  });
});

t.test('stat and remove of a removed segment fail with EINVAL from shmctl', async (t) => {
  const id = removedId();
  t.throws(() => native.stat(id), { code: 'EINVAL', errno: constants.errno.EINVAL, syscall: 'shmctl' });
  t.throws(() => native.remove(id), { code: 'EINVAL', errno: constants.errno.EINVAL, syscall: 'shmctl' });
});

t.test('attaching without permission fails with EACCES from shmat', async (t) => {
  // Mode 0 denies everyone but root; root is not subject to SysV permissions, so as root
  // the attach runs in a child under the uid of nobody.
  const id = createSegment(t, 4096, { mode: 0o000 });
  const want = { code: 'EACCES', errno: constants.errno.EACCES, syscall: 'shmat' };
  if (process.getuid?.() !== 0) {
    t.throws(() => native.attach(id, false), want);
    return;
  }
  const nativeUrl = new URL('../../src/segments/native.js', import.meta.url).href;
  const script = `
    const { native } = await import(${JSON.stringify(nativeUrl)});
    try { native.attach(${id}, false); console.log('{}'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, syscall: e.syscall })); }
  `;
  // tap injects its process-info hook into every child it spawns; as nobody that hook
  // cannot write under .tap/ and fails at exit, so only the child's stdout is judged.
  const child = spawnSync(node.command, [...node.args, ...process.execArgv, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    timeout: 60_000,
  });
  t.equal(child.signal, null, 'child was not killed');
  t.same(JSON.parse(child.stdout.trim() || 'null'), want, `child stderr: ${child.stderr.slice(0, 400)}`);
});

import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachRemote } from '../../src/index.js';
import { BIN, ROOT, startDaemon, testPlace } from '../fixtures/daemon.js';

// The C example attaches the way the seed's clients do (fscanf + shmget without IPC_CREAT);
// values cross between it and the library API in both directions. (The Python example has
// its own file, python-example.test.ts.)
const cc = spawnSync('cc', ['--version']);

t.test("the C example and the library API see each other's stores", { skip: cc.status === 0 ? false : 'no C compiler (cc)' }, async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const exe = join(place.dir, 'pdsm_example');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', exe, join(ROOT, 'examples/c/pdsm_example.c')]);
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '3', '-H', '127.0.0.1']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);
  const c = (...args: string[]): string => execFileSync(exe, ['-d', place.dir, '-n', '3', ...args], { encoding: 'utf8' });

  c('store', 'RO', '64', '123456789012345');
  const app = attachRemote({ registryDir: place.dir, clientId: 3 });
  t.teardown(() => app.detach());
  t.equal(app.ro.readBigUInt64LE(64), 123456789012345n, 'library sees the C store');

  app.mo.writeBigUInt64LE(987654321n, 8);
  t.equal(c('load', 'MO', '8').trim(), '987654321', 'C sees the library store');

  c('cstore', '0', '7', '4088', '7');
  t.equal(app.ro.readBigUInt64LE(0), 7n);
  t.equal(app.status('ro').generation % 2n, 0n, 'generation even after a consistent write');
  t.equal(app.status('ro').generation, 2n, 'one write bumps twice');
  t.equal(c('cload', 'MO', '8', '16').trim(), '987654321 0');

  const bad = spawnSync(exe, ['-d', place.dir, '-n', '3', 'load', 'MO', '4096'], { encoding: 'utf8' });
  t.equal(bad.status, 1, 'an offset past the end is refused');
  t.match(bad.stderr, /offset 4096 is not an 8-aligned offset inside MO \(size 4096\)/);

  // A registry copy with a namespace line (issue 15): Global or Local works (POSIX attaches by
  // key), anything else is refused naming it.
  const copy = join(place.dir, 'copy');
  mkdirSync(copy);
  const text = readFileSync(join(place.dir, 'pdsm_registry_client_3'), 'utf8');
  const withLine = (value: string): ReturnType<typeof spawnSync> => {
    writeFileSync(join(copy, 'pdsm_registry_client_3'), `${text}PDSM_namespace ${value}\n`);
    return spawnSync(exe, ['-d', copy, '-n', '3', 'load', 'MO', '8'], { encoding: 'utf8' });
  };
  t.equal(withLine('Global').stdout, '987654321\n', 'PDSM_namespace Global: read by key on POSIX');
  const unknown = withLine('global');
  t.equal(unknown.status, 1, 'an unknown namespace is refused');
  t.match(unknown.stderr, /PDSM_namespace "global" is neither Global nor Local/);
});

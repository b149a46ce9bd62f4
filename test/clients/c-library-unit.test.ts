import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { testPlace } from '../fixtures/daemon.js';
import { assertLines, makeLib, missingAny } from '../fixtures/clients.js';

// libpdsm's own C tests: the test program plays the daemon (it makes the segments and the
// registry files) and checks every call, including hostile registry files.
t.test('libpdsm builds without warnings and passes its C unit tests', { skip: missingAny('cc', 'make') }, async (t) => {
  const place = testPlace(1);
  t.teardown(() => place.cleanup());
  const build = makeLib(join(place.dir, 'build'), ['all', 'tests'], ['CFLAGS=-O2 -Werror']);
  const r = spawnSync(join(build, 'test_unit'), [place.dir, place.key], { encoding: 'utf8', timeout: 60_000 });
  const n = assertLines(t, r.stdout + r.stderr, r.status);
  t.ok(n >= 50, `the C program ran its ${n} checks`);
});

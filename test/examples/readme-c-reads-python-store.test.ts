import t from 'tap';
import type { Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';
import { eventually, startCluster, type Cluster } from '../fixtures/cluster.js';
import { makeLib, missingAny, PY_DIR } from '../fixtures/clients.js';

// The issue's done-when: README's C program, built with `cc $(pkg-config --cflags --libs
// pdsm)` after `make install PREFIX=$tmp`, reads a value that README's Python program stored
// through the pdsm package, across a real master and remote. And the other way round with
// the store/load examples.
const EXAMPLES = join(ROOT, 'examples');
const skip = missingAny('cc', 'make', 'pkg-config', 'python3');

interface Setup {
  c: Cluster;
  env: NodeJS.ProcessEnv;
  load: string;
  store: string;
}

async function setup(t: Test): Promise<Setup> {
  const c = await startCluster({ remotes: 2, intervalMs: 50 });
  t.teardown(() => c.destroy());
  const prefix = join(c.place.dir, 'prefix');
  makeLib(join(c.place.dir, 'build'), ['install'], [`PREFIX=${prefix}`]);
  // Python: the package as pip installs it when pip is there, else straight from its folder.
  let pythonPath = join(PY_DIR, 'src');
  if (spawnSync('python3', ['-m', 'pip', '--version']).status === 0) {
    pythonPath = join(c.place.dir, 'site');
    execFileSync('python3', ['-m', 'pip', 'install', '-q', '--no-index', '--no-cache-dir', '--target', pythonPath, PY_DIR], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: 'ignore',
      timeout: 120_000,
    });
  } else {
    t.comment('python3 has no pip: the package is used from clients/python/src');
  }
  const env = {
    ...process.env,
    PKG_CONFIG_PATH: join(prefix, 'lib/pkgconfig'),
    LD_LIBRARY_PATH: join(prefix, 'lib'),
    PYTHONPATH: pythonPath,
    PDSM_REGISTRY_DIR: c.place.dir,
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const build = (name: string): string => {
    const exe = join(c.place.dir, name);
    // The command README gives, through a shell so $(pkg-config ...) expands as a user's would.
    execFileSync('sh', ['-c', `cc -Wall -Wextra -Werror -o "${exe}" "${join(EXAMPLES, 'c', `${name}.c`)}" $(pkg-config --cflags --libs pdsm)`], {
      env,
      encoding: 'utf8',
    });
    return exe;
  };
  return { c, env, load: build('load'), store: build('store') };
}

t.test('README shows the C load program and the Python store program as they are in examples/', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const file of ['c/load.c', 'python/store.py']) {
    t.ok(readme.includes(readFileSync(join(EXAMPLES, file), 'utf8').trim()), `README holds examples/${file} verbatim`);
  }
  t.match(readme, /make -C clients\/c install PREFIX=/, 'README gives the install command');
  t.match(readme, /cc -o load examples\/c\/load\.c \$\(pkg-config --cflags --libs pdsm\)/, 'README gives the pkg-config build command');
});

t.test('the C program built with pkg-config reads on remote 1 what the Python program stored on the master', { skip }, async (t) => {
  const { env, load } = await setup(t);
  execFileSync('python3', [join(EXAMPLES, 'python/store.py'), '1', '31415926535'], { env, encoding: 'utf8' });
  let last = '';
  const arrived = await eventually(
    () => {
      const r = spawnSync(load, ['1'], { env, encoding: 'utf8' });
      last = r.stdout + r.stderr;
      return r.status === 0 && r.stdout.trim() === '31415926535 62831853070';
    },
    15_000,
    50,
  );
  t.ok(arrived, `remote 1's MO holds the value and its double (last output: ${last.trim()})`);
  const other = spawnSync(load, ['0'], { env, encoding: 'utf8' });
  t.equal(other.stdout.trim(), '0 0', 'remote 0 got nothing: the store was into slice 1 only');
});

t.test('the Python program on the master reads what the C program stored on remote 0', { skip }, async (t) => {
  const { env, store } = await setup(t);
  execFileSync(store, ['0', '271828'], { env });
  let last = '';
  const arrived = await eventually(
    () => {
      const r = spawnSync('python3', [join(EXAMPLES, 'python/load.py'), '0'], { env, encoding: 'utf8' });
      last = r.stdout + r.stderr;
      return r.status === 0 && r.stdout.trim() === '271828 543656';
    },
    15_000,
    50,
  );
  t.ok(arrived, `the master's RO slice 0 holds the value and its double (last output: ${last.trim()})`);
  const bad = spawnSync(store, ['0'], { env, encoding: 'utf8' });
  t.equal(bad.status, 2, 'the C store example exits 2 on a usage error');
});

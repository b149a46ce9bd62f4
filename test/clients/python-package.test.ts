import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { testPlace } from '../fixtures/daemon.js';
import { PY_DIR, missing } from '../fixtures/clients.js';

const noPython = missing('python3');
const noPip = noPython || (spawnSync('python3', ['-m', 'pip', '--version']).status === 0 ? false : 'python3 has no pip module');

// The package's own unittest suite: the test plays the daemon (segments and registry files).
t.test('the pdsm Python package passes its unittest suite', { skip: noPython }, async (t) => {
  const place = testPlace(1);
  t.teardown(() => place.cleanup());
  const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-v', '-s', join(PY_DIR, 'tests')], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PDSM_TEST_DIR: place.dir, PDSM_TEST_KEY_BASE: place.key, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const out = r.stdout + r.stderr;
  let n = 0;
  for (const m of out.matchAll(/^(test_\w+) \(.*?\) \.\.\. (ok|FAIL|ERROR|skipped.*)$/gm)) {
    n++;
    if (m[2]!.startsWith('skipped')) t.comment(`${m[1]} ${m[2]}`);
    else t.equal(m[2], 'ok', m[1]!.replace(/^test_/, '').replaceAll('_', ' '));
  }
  t.ok(n >= 15, `unittest ran ${n} tests`);
  t.equal(r.status, 0, r.status === 0 ? 'unittest exited 0' : `unittest failed:\n${out.slice(-3000)}`);
});

t.test('pip installs the package from its folder without a package index', { skip: noPip }, async (t) => {
  const place = testPlace(0);
  t.teardown(() => place.cleanup());
  const site = join(place.dir, 'site');
  const pip = spawnSync('python3', ['-m', 'pip', 'install', '--no-index', '--no-cache-dir', '--target', site, PY_DIR], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  t.equal(pip.status, 0, pip.status === 0 ? 'pip install exited 0' : `pip install failed:\n${pip.stdout}${pip.stderr}`);
  const r = spawnSync('python3', ['-c', 'import pdsm, sys; print(pdsm.__version__, pdsm.__file__)'], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: site },
  });
  t.match(r.stdout, new RegExp(`^0\\.1\\.0 ${site.replaceAll('/', '\\/')}/pdsm/__init__\\.py`), 'the installed package imports from the target folder');
});

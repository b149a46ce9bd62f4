import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';

const DIR = join(ROOT, 'contrib/systemd');
const UNITS = ['pdsm-master.service', 'pdsm-remote@.service'];

t.test('the systemd units restart on failure, are hardened and keep the host IPC namespace', async (t) => {
  for (const unit of UNITS) {
    const text = readFileSync(join(DIR, unit), 'utf8');
    for (const line of [
      'Restart=on-failure',
      'RestartPreventExitStatus=2',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/tmp',
      'PrivateTmp=no',
      'RemoveIPC=no',
      'KillSignal=SIGTERM',
    ]) {
      t.match(text, new RegExp(`^${line}$`, 'm'), `${unit}: ${line}`);
    }
    t.notMatch(text, /^PrivateIPC=/m, `${unit}: no PrivateIPC (segments are shared with applications)`);
    t.match(text, /^EnvironmentFile=-\/etc\/pdsm\//m, `${unit}: options come from an EnvironmentFile`);
  }
  t.match(readFileSync(join(DIR, 'pdsm-remote@.service'), 'utf8'), /^ExecStart=\S+pdsm_remote -n %i /m, 'the instance is the client id');
});

const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

t.test(
  'systemd-analyze verify finds nothing wrong but the missing installed binaries',
  { skip: haveAnalyze ? false : 'systemd-analyze is not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pdsm-units-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(join(DIR, 'pdsm-master.service'), join(dir, 'pdsm-master.service'));
    copyFileSync(join(DIR, 'pdsm-remote@.service'), join(dir, 'pdsm-remote@.service'));
    copyFileSync(join(DIR, 'pdsm-remote@.service'), join(dir, 'pdsm-remote@3.service'));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'pdsm-master.service'), join(dir, 'pdsm-remote@3.service')], {
      encoding: 'utf8',
      cwd: dir,
    });
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/is not executable: No such file or directory/.test(l));
    t.same(problems, [], 'no complaints');
  },
);

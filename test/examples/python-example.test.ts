import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { attachRemote } from '../../src/index.js';
import { BIN, ROOT, startDaemon, testPlace } from '../fixtures/daemon.js';

// The Python example attaches the seed's way with ctypes only (no pdsm package): read the
// registry's MO and RO lines, shmget without IPC_CREAT, shmat.
const python = spawnSync('python3', ['--version']);

t.test(
  "the Python example (ctypes only) sees the library's stores and the library sees its",
  { skip: python.status === 0 ? false : 'python3 is not installed' },
  async (t) => {
    const place = testPlace();
    t.teardown(() => place.cleanup());
    const remote = startDaemon(BIN.remote, [...place.args, '-n', '1', '-H', '127.0.0.1']);
    t.teardown(() => remote.stop('SIGKILL'));
    await remote.waitFor(/running/);
    const py = (...args: string[]): string =>
      execFileSync('python3', [join(ROOT, 'examples/python/pdsm_example.py'), '-d', place.dir, '-n', '1', ...args], { encoding: 'utf8' });
    py('store', 'RO', '24', '4242');
    const app = attachRemote({ registryDir: place.dir, clientId: 1 });
    t.teardown(() => app.detach());
    t.equal(app.ro.readBigUInt64LE(24), 4242n);
    app.mo.writeBigUInt64LE(31415n, 0);
    t.equal(py('load', 'MO', '0').trim(), '31415');
  },
);

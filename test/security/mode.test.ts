import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../src/segments/native.js';
import { findSegment } from '../../src/segments/segment.js';
import { masterKeys } from '../../src/segments/layout.js';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';

for (const mode of [0o666, 0o660, 0o600]) {
  t.test(`--mode ${mode.toString(8)} sets the permissions of the segments and, less group and other write, of the registry file`, async (t) => {
    const place = testPlace();
    t.teardown(() => place.cleanup());
    const args = mode === 0o666 ? [] : ['--mode', `0${mode.toString(8)}`];
    const d = startDaemon(BIN.master, [...place.args, '-L', '127.0.0.1', ...args]);
    t.teardown(() => d.stop('SIGKILL'));
    await d.waitFor(/running/);
    for (const [name, key] of Object.entries(masterKeys(place.keyBase))) {
      const id = findSegment(key);
      if (id === undefined) {
        // Without -b there is no BC segment; every other one must exist.
        t.equal(name, 'BC', `only BC may be absent (${name} is)`);
        continue;
      }
      t.equal(native.stat(id).mode, mode, `${name} has mode ${mode.toString(8)}`);
    }
    // Issue 19.11: never group- or world-writable, whatever --mode says.
    t.equal(statSync(join(place.dir, 'pdsm_master_registry')).mode & 0o777, mode & ~0o022, `the registry file ${(mode & ~0o022).toString(8)}`);
  });
}

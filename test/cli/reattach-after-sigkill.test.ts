import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { attachMaster } from '../../src/index.js';
import { masterKeys } from '../../src/segments/layout.js';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('a daemon killed with SIGKILL re-attaches to its data, and -r removes everything', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const args = [...place.args, '-p', '2', '-s', '8192'];
  const first = startDaemon(BIN.master, args);
  await first.waitFor(/running/);
  t.match(first.stderr(), /created segment segment=MO key=0x[0-9a-f]+ size=16384/);
  t.match(first.stderr(), /registry written path=.*pdsm_master_registry/);

  const app = attachMaster({ registryDir: place.dir });
  app.moSlice(1).writeBigUInt64LE(0xfeedn, 16);
  app.roSlice(0).writeBigUInt64LE(0xbeefn, 0);
  app.detach();
  t.equal(app.mo.length, 0, 'views read as empty after detach');

  t.equal(await first.stop('SIGKILL'), 'SIGKILL');
  const second = startDaemon(BIN.master, args);
  await second.waitFor(/running/);
  t.match(second.stderr(), /re-attached segment segment=MO/);
  const again = attachMaster({ registryDir: place.dir });
  t.equal(again.moSlice(1).readBigUInt64LE(16), 0xfeedn);
  t.equal(again.roSlice(0).readBigUInt64LE(0), 0xbeefn);
  again.detach();
  t.equal(await second.stop('SIGTERM'), 0, 'SIGTERM ends it with exit 0');
  t.match(second.stderr(), /detached; segments left in place/);

  const rm = runBin(BIN.master, [...args, '-r']);
  t.equal(rm.status, 0, rm.stderr);
  t.notOk(existsSync(join(place.dir, 'pdsm_master_registry')), 'registry removed');
  const ipcs = execFileSync('ipcs', ['-m'], { encoding: 'utf8' });
  for (const key of Object.values(masterKeys(place.keyBase))) {
    t.notMatch(ipcs, new RegExp(`0x${key.toString(16).padStart(8, '0')}`), `ipcs shows no key 0x${key.toString(16)}`);
  }
});

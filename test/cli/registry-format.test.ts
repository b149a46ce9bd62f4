import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { masterKeys, remoteKeys } from '../../src/segments/layout.js';
import { findSegment } from '../../src/segments/segment.js';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

// docs/design.md §3 with the default keys, byte for byte. Default keys are shared by the whole
// host, so this test skips rather than touch segments it did not create.
const defaults = [...Object.values(masterKeys()), ...Object.values(remoteKeys(3))];
const busy = defaults.some((k) => findSegment(k) !== undefined);

t.test('the registry files match docs/design.md §3 byte for byte', { skip: busy ? 'segments with the default keys exist on this host' : false }, async (t) => {
  const place = testPlace();
  const dirOnly = ['-d', place.dir, '-P', String(place.port)];
  t.teardown(() => {
    place.cleanup();
    for (const k of defaults) if (findSegment(k) !== undefined) t.fail(`segment 0x${k.toString(16)} left behind`);
  });

  const master = startDaemon(BIN.master, [...dirOnly, '-p', '2', '-s', '4096']);
  await master.waitFor(/running/);
  const masterText = readFileSync(join(place.dir, 'pdsm_master_registry'), 'utf8');
  t.equal(
    masterText.split('\n').slice(0, 2).join('\n') + '\n',
    'PDSM_MO_key 0x314158 PDSM_MO_size 8192 Number_of_segs 2 Seg_size 4096\n' + 'PDSM_RO_key 0x314159 PDSM_RO_size 8192 Number_of_segs 2 Seg_size 4096\n',
  );
  t.match(masterText.split('\n')[2], /^PDSM_ST_key 0x31415b PDSM_ST_size 4096$/, 'ST follows MO and RO');
  t.notMatch(masterText, /PDSM_namespace/, 'POSIX: no namespace line (SysV keys have none; issue 15)');
  t.equal(await master.stop('SIGTERM'), 0);
  t.equal(runBin(BIN.master, [...dirOnly, '-p', '2', '-r']).status, 0);

  const remote = startDaemon(BIN.remote, [...dirOnly, '-n', '3', '-s', '4096', '-H', '127.0.0.1']);
  await remote.waitFor(/running/);
  const remoteText = readFileSync(join(place.dir, 'pdsm_registry_client_3'), 'utf8');
  t.equal(remoteText.split('\n').slice(0, 2).join('\n') + '\n', 'PDSM_MO_key 0x31418c PDSM_MO_size 4096\nPDSM_RO_key 0x31418d PDSM_RO_size 4096\n');
  t.match(remoteText.split('\n')[2], /^PDSM_ST_key 0x31418f PDSM_ST_size 4096$/);

  t.equal(await remote.stop('SIGTERM'), 0);
  t.equal(runBin(BIN.remote, [...dirOnly, '-n', '3', '-r']).status, 0);
});

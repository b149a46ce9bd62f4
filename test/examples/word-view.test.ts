// wordView and wordSize: values exactly W wide, the access that survives every byte order
// (spec §5.3), with W read from the registry file.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachMaster, wordView } from '../../src/index.js';
import { eventually, startCluster } from '../fixtures/cluster.js';

t.test('with -w 4 both nodes say wordSize 4 and a Uint32Array store arrives as the same number', async (t) => {
  const c = await startCluster({ remotes: 1, masterArgs: ['-w', '4'], remoteArgs: ['-w', '4'] });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const remote = c.attachRemote(0);
  t.equal(master.wordSize, 4, 'the master registry says 4');
  t.equal(remote.wordSize, 4, 'the remote registry says 4');
  const mo = wordView(master.moSlice(0), master.wordSize);
  t.ok(mo instanceof Uint32Array, 'a Uint32Array for W = 4');
  t.equal(mo.length, master.segSize / 4);
  mo[5] = 0x0a0b0c0d;
  const seen = wordView(remote.mo, remote.wordSize);
  t.ok(await eventually(() => seen[5] === 0x0a0b0c0d, 20_000), `the remote reads the same number (${seen[5]})`);
});

t.test('wordView picks the element type by W and refuses other widths and misaligned regions', async (t) => {
  const b = Buffer.alloc(64);
  t.ok(wordView(b, 1) instanceof Uint8Array);
  t.ok(wordView(b, 2) instanceof Uint16Array);
  t.ok(wordView(b, 8) instanceof BigUint64Array);
  t.equal(wordView(b, 8).length, 8);
  t.throws(() => wordView(b, 3), { code: 'PDSM_ERR_RANGE', message: /1, 2, 4 or 8, got 3/ });
  t.throws(() => wordView(Buffer.alloc(16).subarray(2), 4), { code: 'PDSM_ERR_RANGE', message: /4-aligned region \(offset 2\)/ });
});

t.test('a registry file with a bad PDSM_word_size is refused by name, before anything is attached', async (t) => {
  const c = await startCluster({ remotes: 1, start: [] });
  t.teardown(() => c.destroy());
  const file = join(c.place.dir, 'pdsm_master_registry');
  const text = readFileSync(file, 'utf8');
  t.match(text, /^PDSM_word_size 8$/m, 'the default -w is in the file');
  writeFileSync(file, text.replace(/^PDSM_word_size 8$/m, 'PDSM_word_size 3'));
  t.throws(() => attachMaster({ registryDir: c.place.dir }), {
    code: 'PDSM_ERR_REGISTRY',
    message: /pdsm_master_registry: PDSM_word_size must be 1, 2, 4 or 8, got "3"/,
  });
});

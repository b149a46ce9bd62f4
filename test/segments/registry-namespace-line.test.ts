import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatMasterRegistry,
  formatRemoteRegistry,
  readMasterRegistry,
  readRemoteRegistry,
  MASTER_REGISTRY_NAME,
  remoteRegistryName,
} from '../../src/segments/registry.js';

// Issue 15: a Windows daemon says which namespace (Global\ or Local\) its mappings are in with a
// PDSM_namespace line after the segment lines; old files (no line) mean Local. Hostile input:
// an unknown value is an error naming it, never a guess.
// A folder per test, removed by its own teardown: a teardown on tap's root would end the root
// once its queue drains, and the portability runner (one process importing many files) would
// then refuse the next file's tests.
function freshDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdsm-ns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const remote = {
  MO: { key: 0x31418c, size: 4096 },
  RO: { key: 0x31418d, size: 4096 },
  ST: { key: 0x31418f, size: 4096 },
  extra: { PDSM_port: 31415, PDSM_word_size: 8, PDSM_pid: 42 },
};
const writeRemote = (dir: string, text: string): void => writeFileSync(join(dir, remoteRegistryName(3)), text);

t.test('the formatter writes the line last, only when there is a namespace', async (t) => {
  const plain = formatRemoteRegistry(remote);
  t.notMatch(plain, /PDSM_namespace/, 'POSIX daemons write no namespace line');
  const global = formatRemoteRegistry({ ...remote, namespace: 'Global' });
  t.equal(global, plain + 'PDSM_namespace Global\n', 'the same file plus one last line');
  t.equal(global.split('\n').slice(0, 2).join('\n'), plain.split('\n').slice(0, 2).join('\n'), 'the first two lines (the fscanf contract) are unchanged');
  const master = formatMasterRegistry({ MO: { key: 1, size: 8192 }, RO: { key: 2, size: 8192 }, segs: 2, segSize: 4096, namespace: 'Local' });
  t.match(master, /\nPDSM_namespace Local\n$/);
});

t.test('the readers give the namespace back, and none for an old file', async (t) => {
  const dir = freshDir(t);
  writeRemote(dir, formatRemoteRegistry({ ...remote, namespace: 'Global' }));
  const reg = readRemoteRegistry(dir, 3);
  t.equal(reg.namespace, 'Global');
  t.notOk('PDSM_namespace' in reg.extra, 'the namespace is not an extra line');
  t.equal(reg.extra.PDSM_word_size, '8');
  writeRemote(dir, formatRemoteRegistry(remote));
  t.equal(readRemoteRegistry(dir, 3).namespace, undefined, 'no line: undefined (Local\\ on Windows)');
  writeFileSync(
    join(dir, MASTER_REGISTRY_NAME),
    formatMasterRegistry({ MO: { key: 1, size: 8192 }, RO: { key: 2, size: 8192 }, segs: 2, segSize: 4096, namespace: 'Local' }),
  );
  t.equal(readMasterRegistry(dir).namespace, 'Local');
});

t.test('an unknown, misspelt or repeated namespace is refused, naming the bad value', async (t) => {
  const dir = freshDir(t);
  const base = formatRemoteRegistry(remote);
  for (const bad of ['global', 'GLOBAL', 'Session', 'Global ', ' Global', '', 'Global\\', 'Local Global']) {
    writeRemote(dir, `${base}PDSM_namespace ${bad}\n`);
    t.throws(
      () => readRemoteRegistry(dir, 3),
      { code: 'PDSM_ERR_REGISTRY', message: `PDSM_namespace ${JSON.stringify(bad)} is neither Global nor Local` },
      `value ${JSON.stringify(bad)}`,
    );
  }
  writeRemote(dir, `${base}PDSM_namespace Global\nPDSM_namespace Local\n`);
  t.throws(() => readRemoteRegistry(dir, 3), { code: 'PDSM_ERR_REGISTRY', message: /PDSM_namespace listed twice/ });
  writeRemote(dir, `${base}PDSM_namespace\n`);
  t.throws(() => readRemoteRegistry(dir, 3), { code: 'PDSM_ERR_REGISTRY', message: /expected "name value"/ }, 'a line without a value');
});

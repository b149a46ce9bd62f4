import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';
import { C_DIR, assertLines, makeLib, missing } from '../fixtures/clients.js';
import { WINE, win32 } from '../fixtures/portability/platforms.js';
import { answer, exitOf, startOn } from '../fixtures/portability/processes.js';

// libpdsm for Windows x64 (make -C clients/c windows, mingw-w64): pdsm.dll and the static
// libpdsm.a over named file mappings (clients/c/src/platform_win.c). Under Wine a node.exe
// with the addon's Windows backend plays remote 3's daemon (test/fixtures/portability/win-c.mjs:
// segments by key, values, status records, the registry file in the daemons' format); the C
// test program, linked once against the DLL and once statically, opens them through the
// library, reads the values and writes some back, which node.exe reads.
const MINGW_CC = 'x86_64-w64-mingw32-gcc';
const OBJDUMP = 'x86_64-w64-mingw32-objdump';
const SCRIPT = join(ROOT, 'test/fixtures/portability/win-c.mjs');
const CLIENT = 3;
const CHECKS = 19; // the "ok N" lines of clients/c/test/test_win.c

const noMingw = spawnSync(MINGW_CC, ['--version']).status === 0 ? false : `${MINGW_CC} is not installed (apt-get install mingw-w64)`;
const noBuild = noMingw || missing('make');
const win = win32();

const work = mkdtempSync(join(tmpdir(), 'pdsm-winc-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
let built: string | undefined;
/** make windows into a private folder, once, warnings as errors. */
function build(): string {
  built ??= makeLib(join(work, 'build'), ['windows'], ['CFLAGS=-O2 -Werror']);
  return built;
}

/** objdump -p of a PE file: the DLLs it imports and the names it exports. */
function peInfo(file: string): { imports: string[]; exports: string[] } {
  const text = execFileSync(OBJDUMP, ['-p', file], { encoding: 'utf8' });
  const imports = [...text.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]!.toLowerCase());
  const table = text.split('[Ordinal/Name Pointer] Table')[1] ?? '';
  const exports = [...table.matchAll(/^\t\[\s*\d+\] (\S+)$/gm)].map((m) => m[1]!);
  return { imports: imports.sort(), exports: exports.sort() };
}

t.test(
  'libpdsm cross-builds for Windows x64 without warnings: pdsm.dll exports exactly the calls of pdsm.h and needs no mingw runtime DLL',
  { skip: noBuild },
  async (t) => {
    const dir = build();
    const header = readFileSync(join(C_DIR, 'include/pdsm.h'), 'utf8');
    const api = [...header.matchAll(/^PDSM_API [^(]*?\b(pdsm_\w+)\(/gm)].map((m) => m[1]!).sort();
    t.ok(api.length >= 18, `pdsm.h declares its ${api.length} calls with PDSM_API`);
    const dll = peInfo(join(dir, 'pdsm.dll'));
    t.same(dll.exports, api, 'the DLL exports the PDSM_API calls and nothing else (no pdsm_platform_*)');
    t.same(dll.imports, ['bcrypt.dll', 'kernel32.dll', 'msvcrt.dll'], 'the DLL imports only KERNEL32, msvcrt and bcrypt (libgcc linked in)');
    t.ok(peInfo(join(dir, 'test_win.exe')).imports.includes('pdsm.dll'), 'test_win.exe is linked against pdsm.dll');
    t.notOk(peInfo(join(dir, 'test_win_static.exe')).imports.includes('pdsm.dll'), 'test_win_static.exe carries the static library');
    t.ok(readFileSync(join(dir, 'libpdsm.dll.a')).length > 0, 'the import library is there');
  },
);

if (noBuild || typeof win === 'string') {
  t.test('libpdsm on Windows under Wine', { skip: noBuild || (win as string) }, () => {});
} else {
  t.test(
    'a C program on libpdsm for Windows reads what node.exe stored in named file mappings, through a registry file, and node.exe reads its write-back',
    async (t) => {
      const exes = build();
      const dir = mkdtempSync(join(tmpdir(), 'pdsm-winc-'));
      const key = (0x5e000000 + ((process.pid * 7919 + Date.now()) % 0xfff000)) >>> 0;
      const node = startOn(win, SCRIPT, [String(key), String(CLIENT), win.path(dir)], { logFile: join(dir, 'node.log') });
      t.teardown(async () => {
        await node.stop('SIGKILL', 1000);
        rmSync(dir, { recursive: true, force: true });
      });
      const ready = await answer(dir, 'node-ready.json', 'node-error.json', node, win.startMs);
      t.match(
        String(ready.registry),
        new RegExp(`^PDSM_MO_key 0x${key.toString(16)} PDSM_MO_size 8192\nPDSM_RO_key 0x${(key + 1).toString(16)} PDSM_RO_size 8192\n`),
        "node.exe wrote remote 3's registry file as the daemons write it",
      );

      const env: NodeJS.ProcessEnv = { ...process.env, ...win.env };
      delete env.PDSM_REGISTRY_DIR;
      for (const exe of ['test_win.exe', 'test_win_static.exe']) {
        await t.test(`${exe}: every check of clients/c/test/test_win.c passes`, async (t) => {
          const r = spawnSync(WINE, [join(exes, exe), win.path(dir), String(CLIENT), `0x${key.toString(16)}`], { encoding: 'utf8', env, timeout: 120_000 });
          t.equal(assertLines(t, r.stdout + r.stderr, r.status), CHECKS, `all ${CHECKS} checks ran`);
        });
      }

      writeFileSync(join(dir, 'c-done'), '');
      const result = await answer(dir, 'node-result.json', 'node-error.json', node, win.startMs);
      t.equal(await exitOf(node, 30_000), 0, 'node.exe exits cleanly');
      t.same(
        result,
        { sawDone: true, u64: String(0xcafef00d12345678n), text: 'from C', roOutGeneration: '4' },
        "node.exe reads both programs' write-back in RO, and RO's outgoing generation two even steps on per program",
      );
    },
  );
}

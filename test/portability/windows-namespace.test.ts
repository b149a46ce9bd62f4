import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort } from '../fixtures/cluster.js';
import { ROOT, testPlace } from '../fixtures/daemon.js';
import { host, win32, type Platform } from '../fixtures/portability/platforms.js';
import { BIN, eventuallyAsync, exitOf, WindowsKit } from '../fixtures/portability/processes.js';
import { readRemoteRegistry } from '../../src/segments/registry.js';
import { TEST_ONLY_REFUSE_GLOBAL_ENV } from '../../src/segments/namespace.js';

// Issue 15: a Windows daemon puts its mappings in Global\ when it may create global objects,
// else in Local\, and says which in its registry file (PDSM_namespace), so that every
// attaching program opens the same name. Wine lets every process create Global\ objects (no
// SeCreateGlobalPrivilege check), so the refusal a real Windows gives an unprivileged daemon
// is played by the TEST-ONLY variable PDSM_TEST_ONLY_REFUSE_GLOBAL=1 (the Global\ create then
// fails with EACCES before Windows is asked). Under Wine, Global\ and Local\ are separate
// namespaces: a name created in one is not found in the other (checked below), so a reader
// that attaches has opened the namespace the file named.
// Three Windows remotes of a Linux master on 127.0.0.1: 0 auto (Global\), 1 auto with Global\
// refused (Local\), 2 --namespace local; and --namespace global with Global\ refused exits 1.
const win = win32();
const kit = new WindowsKit((fn) => t.teardown(fn), 'pdsm-winns-');
const refuse = { [TEST_ONLY_REFUSE_GLOBAL_ENV]: '1' };

/** examples/c/pdsm_example.c (the seed-style client: fscanf, then OpenFileMapping) for Windows. */
function exampleExe(): string {
  const exe = join(kit.work, 'pdsm_example.exe');
  if (!existsSync(exe)) execFileSync('x86_64-w64-mingw32-gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', exe, join(ROOT, 'examples/c/pdsm_example.c')]);
  return exe;
}

if (typeof win === 'string') {
  t.test('the Windows mapping namespace under Wine', { skip: win }, () => {});
} else {
  t.test(
    'Windows remotes attach through the namespace their registry file names: Global\\ when allowed, Local\\ on refusal or --namespace local',
    async (t) => {
      const place = testPlace(1);
      const port = await freeUdpPort(4);
      const dirOn = (p: Platform): string => p.path(place.dir);
      const common = (p: Platform): string[] => ['-d', dirOn(p), '-k', place.key, '-P', String(port), '-i', '50'];
      const remoteArgs = (n: number): string[] => [...common(win), '-n', String(n), '-H', '127.0.0.1'];
      const { start, attached } = kit.group((fn) => t.teardown(fn), place);
      const [onMaster, onWin] = await Promise.all([kit.agents.on(host), kit.agents.on(win)]);
      attached.push(onMaster, onWin);

      const master = start(host, BIN.master, [...common(host), '-p', '3', '-L', '127.0.0.1']);
      await master.waitFor(/running/);

      // --namespace global where Global\ is refused: a clear error, no registry file.
      const forced = kit.daemon(win, BIN.remote, [...remoteArgs(2), '--namespace', 'global'], refuse);
      t.equal(await exitOf(forced, win.startMs), 1, '--namespace global with Global\\ refused exits 1');
      t.match(
        forced.output(),
        /cannot create ST segment .*EACCES.*needs SeCreateGlobalPrivilege.*--namespace local or auto/,
        'naming the privilege and the way out',
      );
      t.notOk(existsSync(join(place.dir, 'pdsm_registry_client_2')), 'and writes no registry file');

      const expected = ['Global', 'Local', 'Local'] as const;
      const remotes = [
        start(win, BIN.remote, remoteArgs(0)),
        start(win, BIN.remote, remoteArgs(1), refuse),
        start(win, BIN.remote, [...remoteArgs(2), '--namespace', 'local']),
      ];
      for (const [n, r] of remotes.entries()) {
        await r.waitFor(/joined master/);
        await r.waitFor(/registry written/);
        t.match(
          r.output(),
          new RegExp(`created segment segment=ST .*namespace=${expected[n]}`),
          `remote ${n} logs that it created its mappings in ${expected[n]}\\`,
        );
        // The Linux-side reader of the registry file (src/segments/registry.ts).
        t.equal(readRemoteRegistry(place.dir, n).namespace, expected[n], `remote ${n}'s registry file says PDSM_namespace ${expected[n]}`);
        t.match(
          readFileSync(join(place.dir, `pdsm_registry_client_${n}`), 'utf8'),
          /^PDSM_MO_key 0x[0-9a-f]+ PDSM_MO_size \d+\nPDSM_RO_key /,
          'its first two lines keep their shape',
        );
      }

      // MO values from the Linux master reach each Windows remote, read there by the Node
      // library (agent.mjs), examples/c/load.c on libpdsm and the seed-style examples/c/pdsm_example.c,
      // all through the registry file.
      const value = (n: number): bigint => 0x5100000000000000n + BigInt(n);
      for (let n = 0; n < 3; n++) {
        await onMaster.attach(place.dir, 'master', n);
        await onMaster.store('MO', 0, 8, value(n) + 1n);
        await onMaster.store('MO', 8, 8, value(n));
        await onMaster.detach();
        await onWin.attach(place.dir, 'remote', n);
        t.ok(
          await eventuallyAsync(async () => (await onWin.load('MO', 8, 8)) === value(n)),
          `remote ${n} (${expected[n]}\\): the Node library on Windows reads the master's MO`,
        );
        await onWin.detach();
        const load = kit.run(win, '', [String(n)], { exe: kit.loadExe(), env: { PDSM_REGISTRY_DIR: dirOn(win) } });
        t.same(
          { status: load.status, out: load.out.trim() },
          { status: 0, out: `${value(n) + 1n} ${value(n)}` },
          `remote ${n}: examples/c/load.c (libpdsm) on Windows reads it too`,
        );
        const example = kit.run(win, '', ['-d', dirOn(win), '-n', String(n), 'load', 'MO', '8'], { exe: exampleExe() });
        t.same(
          { status: example.status, out: example.out.trim() },
          { status: 0, out: `${value(n)}` },
          `remote ${n}: examples/c/pdsm_example.c on Windows reads it too`,
        );
      }

      // RO the other way: pdsm poke on Windows into the Local\ remote 1, pdsm dump on Windows of
      // the Global\ remote 0; the Linux master reads the poked value.
      const poke = kit.run(win, BIN.pdsm, ['poke', 'RO', '--client', '1', '-d', dirOn(win), '--offset', '16', '--u64', '4242']);
      t.equal(poke.status, 0, `pdsm poke on Windows exits 0; it printed:\n${poke.out}`);
      await onMaster.attach(place.dir, 'master', 1);
      t.ok(await eventuallyAsync(async () => (await onMaster.load('RO', 16, 8)) === 4242n), 'the Linux master reads what pdsm poke stored on Windows');
      await onMaster.detach();
      const dump = kit.run(win, BIN.pdsm, ['dump', 'MO', '--client', '0', '-d', dirOn(win), '--offset', '8', '--length', '8', '--as', 'u64']);
      t.equal(dump.status, 0, `pdsm dump on Windows exits 0; it printed:\n${dump.out}`);
      t.match(dump.out, new RegExp(`\\b${value(0)}\\b`), "pdsm dump on Windows prints the Global\\ remote's MO value");

      // The line is what readers follow: remote 0's file without it (an old file: Local\) makes
      // the libraries and the example look in Local\, where Windows has no such mapping.
      const stale = join(place.dir, 'without-namespace');
      mkdirSync(stale);
      const text = readFileSync(join(place.dir, 'pdsm_registry_client_0'), 'utf8');
      writeFileSync(join(stale, 'pdsm_registry_client_0'), text.replace(/^PDSM_namespace Global\n/m, ''));
      await t.rejects(onWin.attach(stale, 'remote', 0), /MO segment key 0x[0-9a-f]+ does not exist/, 'the Node library then finds no Local\\ mapping');
      const old = kit.run(win, '', ['0'], { exe: kit.loadExe(), env: { PDSM_REGISTRY_DIR: win.path(stale) } });
      t.equal(old.status, 1, 'load.c exits 1 there');
      t.match(old.out, /OpenFileMappingW Local\\pdsm-[0-9a-f]+: no such mapping/, 'naming the Local\\ mapping it tried');
      const oldExample = kit.run(win, '', ['-d', win.path(stale), '-n', '0', 'load', 'MO', '8'], { exe: exampleExe() });
      t.equal(oldExample.status, 1, 'pdsm_example.c exits 1 there');
      t.match(
        oldExample.out,
        /OpenFileMapping MO Local\\pdsm-[0-9a-f]+ size \d+: Windows error 2\b/,
        'naming the Local\\ mapping it tried (ERROR_FILE_NOT_FOUND)',
      );

      // -r of the Global\ remote after a stop: exits 0 and removes the registry file.
      t.equal(await remotes[0]!.stop('SIGINT', 30_000), 0, 'SIGINT stops remote 0 (exit 0)');
      const removal = kit.run(win, BIN.remote, ['-r', ...common(win), '-n', '0']);
      t.equal(removal.status, 0, `-r exits 0; it printed:\n${removal.out}`);
      t.notOk(existsSync(join(place.dir, 'pdsm_registry_client_0')), '-r removed the registry file');
    },
  );
}

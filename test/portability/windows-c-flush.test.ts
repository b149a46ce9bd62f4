import t from 'tap';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, win32 as winPath } from 'node:path';
import type { DaemonReport } from '../../src/daemon/status-report.js';
import { freeUdpPort } from '../fixtures/cluster.js';
import { testPlace } from '../fixtures/daemon.js';
import { host, win32, type Platform } from '../fixtures/portability/platforms.js';
import { BIN, eventuallyAsync, WindowsKit } from '../fixtures/portability/processes.js';

// pdsm_flush of libpdsm on Windows: the library names the daemon's control pipe as the
// daemons do (src/platform.ts windows.controlPath: the first 16 hex digits of the SHA-256 of
// path.resolve(folder).toLowerCase()) and asks it to flush through the pipe
// (clients/c/src/platform_win.c). A Windows remote (node.exe under Wine) of a Linux master,
// both with a 10-minute interval and digest period, so that a value reaches the master only
// through the flush; clients/c/test/flush_value.c built with mingw writes RO word 0 and
// flushes it.
const win = win32();
const kit = new WindowsKit((fn) => t.teardown(fn), 'pdsm-wincflush-');
const SLOW = ['-i', '600000', '--digest-interval', '600000'];

/** The pipe name src/platform.ts gives a Windows daemon of `winFolder`, computed on Linux. */
function pipeOf(winFolder: string, name: string): string {
  const folder = createHash('sha256').update(winPath.resolve(winFolder).toLowerCase()).digest('hex').slice(0, 16);
  return `\\\\.\\pipe\\pdsm-${folder}-${name}`;
}

if (typeof win === 'string') {
  t.test('pdsm_flush on Windows under Wine', { skip: win }, () => {});
} else {
  t.test(
    'pdsm_flush on Windows reaches the Windows daemon through its named pipe: the RO value arrives at the Linux master before any interval; without a daemon it names the pipe',
    async (t) => {
      const place = testPlace(1);
      const port = await freeUdpPort(4);
      const { start, attached } = kit.group((fn) => t.teardown(fn), place);
      const common = (p: Platform): string[] => ['-d', p.path(place.dir), '-k', place.key, '-P', String(port), ...SLOW];
      const exe = kit.flushExe();

      const master = start(host, BIN.master, [...common(host), '-p', '1', '-L', '127.0.0.1']);
      await master.waitFor(/running/);
      const remote = start(win, BIN.remote, [...common(win), '-n', '0', '-H', '127.0.0.1']);
      await remote.waitFor(/joined master/);
      await remote.waitFor(/registry written/);

      // The hash this test computes is the daemon's: it logged the pipe it serves.
      const pipe = pipeOf(win.path(place.dir), 'remote-0');
      if (!win.pipes) t.match(remote.output(), `control pipe path=${pipe}`, `the Windows daemon serves ${pipe}`);

      const onMaster = await kit.agents.on(host);
      await onMaster.attach(place.dir, 'master', 0);
      attached.push(onMaster);
      t.ok(await eventuallyAsync(async () => (await onMaster.load('RO', 0, 8)) === 0n), "the master's RO slice is attached");

      // The folder as given, and spelled as path.resolve would not leave it (a trailing
      // separator, forward slashes, upper case): the same pipe each time.
      const w = win.path(place.dir);
      const spellings = [w, `${w}\\`, w.replace(/\\/g, '/'), w.toUpperCase()];
      for (const [i, folder] of spellings.entries()) {
        const value = 0x5eed0000_00001230n + BigInt(i);
        const ok = kit.run(win, '', [folder, 'remote', '0', `0x${value.toString(16)}`], { exe });
        t.equal(ok.status, 0, `flush_value.exe ${folder} exits 0${ok.status === 0 ? '' : `; it printed:\n${ok.out}`}`);
        t.match(ok.out, /^PDSM_OK\b/, 'pdsm_flush returned PDSM_OK');
        t.ok(
          await eventuallyAsync(async () => (await onMaster.load('RO', 0, 8)) === value),
          'the Linux master reads the value the flush sent (no periodic scan or digest runs in 10 minutes)',
        );
      }
      const st = kit.run(win, BIN.pdsm, ['status', '--json', '-d', w, '--client', '0']);
      t.equal(st.status, 0, `pdsm status --json on Windows exits 0${st.status === 0 ? '' : `; it printed:\n${st.out}`}`);
      const report = JSON.parse(st.out) as DaemonReport;
      t.equal(report.scans, 0, 'the Windows remote ran no periodic scan');
      const ro = report.peers[0]?.flows.find((f) => f.flow === 'ro' && f.direction === 'out');
      t.match(ro, { flushRequests: spellings.length }, 'but took every flush request');

      // Another folder with a copy of the registry file (its mappings exist: it opens) but no
      // daemon, named with upper case and non-ASCII letters: PDSM_ERR_DAEMON naming the pipe
      // Node would name for that folder. The folder goes by $PDSM_REGISTRY_DIR (UTF-16 to
      // libpdsm), not argv (the ANSI code page).
      const other = join(place.dir, 'Flush-ÄÖ-Dir');
      mkdirSync(other);
      copyFileSync(join(place.dir, 'pdsm_registry_client_0'), join(other, 'pdsm_registry_client_0'));
      const none = kit.run(win, '', ['', 'remote', '0', '1'], { exe, env: { PDSM_REGISTRY_DIR: win.path(other) } });
      t.equal(none.status, 1, `without a daemon flush_value.exe exits 1; it printed:\n${none.out}`);
      t.match(none.out, /^PDSM_ERR_DAEMON\b/, 'pdsm_flush returned PDSM_ERR_DAEMON');
      const otherPipe = pipeOf(win.path(other), 'remote-0');
      t.match(none.out, `no daemon answers on ${otherPipe}: no such pipe`, `naming the pipe ${otherPipe} Node names for the folder`);
    },
  );
}

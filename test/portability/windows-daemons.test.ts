import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort } from '../fixtures/cluster.js';
import { testPlace } from '../fixtures/daemon.js';
import { host, win32, type Platform } from '../fixtures/portability/platforms.js';
import { BIN, eventuallyAsync, exitOf, WindowsKit } from '../fixtures/portability/processes.js';

// The daemons on Windows: node.exe under Wine runs pdsm_master (or pdsm_remote) from dist/,
// a native Linux daemon is the other end on 127.0.0.1, and an application on each side
// (agent.mjs, attaching through the registry file) stores and reads values both ways; on a
// Windows remote, examples/c/load.c built with mingw reads them through libpdsm too.
// `pdsm status` on Windows reaches the daemon through its named pipe (src/platform.ts).
// node.exe cannot write to a host pipe: its output goes to files in a private folder.
const win = win32();
const kit = new WindowsKit((fn) => t.teardown(fn), 'pdsm-windaemons-');
const { agents } = kit;

if (typeof win === 'string') {
  t.test('the daemons on Windows under Wine', { skip: win }, () => {});
} else {
  for (const [masterOn, remoteOn] of [
    [win, host],
    [host, win],
  ] as const) {
    t.test(
      `a ${masterOn.name} master and a ${remoteOn.name} remote carry MO and RO values both ways; pdsm status answers on Windows through the named pipe`,
      async (t) => {
        const place = testPlace(1);
        const port = await freeUdpPort(4);
        const dirOn = (p: Platform): string => p.path(place.dir);
        const common = (p: Platform): string[] => ['-d', dirOn(p), '-k', place.key, '-P', String(port), '-i', '50'];
        const { start, attached } = kit.group((fn) => t.teardown(fn), place);

        const master = start(masterOn, BIN.master, [...common(masterOn), '-p', '1', '-L', '127.0.0.1']);
        await master.waitFor(/running/);
        const remote = start(remoteOn, BIN.remote, [...common(remoteOn), '-n', '0', '-H', '127.0.0.1']);
        // A remote may say it joined before its registry file is written: wait for both.
        await remote.waitFor(/joined master/);
        await remote.waitFor(/registry written/);
        if (!win.pipes) {
          const onWin = masterOn === win ? master : remote;
          t.match(onWin.output(), /control pipe path=\\\\\.\\pipe\\pdsm-[0-9a-f]{16}-(master|remote-0)\b/, 'the Windows daemon serves a named pipe');
        }

        const { onMaster, onRemote } = await agents.attachPair(masterOn, remoteOn, place.dir, 0, attached);

        const mo = 0x1122334455667788n;
        const ro = 0x0a0b0c0d0e0f1011n;
        await onMaster.store('MO', 0, 8, mo + 1n);
        await onMaster.store('MO', 8, 8, mo);
        await onRemote.store('RO', 16, 8, ro);
        t.ok(await eventuallyAsync(async () => (await onRemote.load('MO', 8, 8)) === mo), 'MO: the remote reads what the master stored');
        t.ok(await eventuallyAsync(async () => (await onMaster.load('RO', 16, 8)) === ro), 'RO: the master reads what the remote stored');

        // examples/c/load.c, built with mingw against libpdsm, reads a Windows remote's MO whole.
        // win32() already requires mingw-w64.
        if (remoteOn === win) {
          const load = kit.run(win, '', ['0'], { exe: kit.loadExe(), env: { PDSM_REGISTRY_DIR: dirOn(win) } });
          t.same(
            { status: load.status, out: load.out.trim() },
            { status: 0, out: `${mo + 1n} ${mo}` },
            "examples/c/load.c on Windows prints the first two u64 of the Windows remote's MO",
          );
        }

        const winArgs = masterOn === win ? ['-d', dirOn(win)] : ['-d', dirOn(win), '--client', '0'];
        const st = kit.run(win, BIN.pdsm, ['status', ...winArgs]);
        t.equal(st.status, 0, `pdsm status on Windows exits 0; it printed:\n${st.out}`);
        const self = masterOn === win ? /^pdsm_master {2}pid \d+/m : /^pdsm_remote 0 {2}pid \d+/m;
        t.match(st.out, self, 'it found the Windows daemon by its named pipe');
        t.match(st.out, masterOn === win ? /^0 +up\b/m : /^master +up\b/m, 'and reports the peer up');
        const none = kit.run(win, BIN.pdsm, ['status', '-d', dirOn(win), '--client', '5']);
        t.equal(none.status, 1, 'pdsm status for a daemon that does not run exits 1');
        t.match(none.out, /no daemon answers on \\\\\.\\pipe\\pdsm-[0-9a-f]{16}-remote-5: no such socket/, 'naming the pipe it tried');

        // A second daemon of the same role and id on Windows is refused while the first runs.
        const again = masterOn === win ? [BIN.master, '-p', '1', '-L', '127.0.0.1'] : [BIN.remote, '-n', '0', '-H', '127.0.0.1'];
        const second = kit.daemon(win, again[0]!, [...common(win), ...again.slice(1)]);
        t.equal(await exitOf(second, win.startMs), 1, 'a second Windows daemon with the same id exits 1');
        t.match(second.output(), /already running/, 'saying the first one runs');

        for (const a of attached.splice(0)) await a.detach();
        const winProc = masterOn === win ? master : remote;
        t.equal(await winProc.stop('SIGINT', 30_000), 0, 'SIGINT stops the Windows daemon cleanly (exit 0)');
        t.match(winProc.output(), /stopping reason=SIGINT[\s\S]*detached; segments left in place/, 'through the graceful path');

        // -r on Windows: the registry file goes; the mappings went with their last handle.
        const registry = join(place.dir, masterOn === win ? 'pdsm_master_registry' : 'pdsm_registry_client_0');
        t.ok(existsSync(registry), 'the registry file stays after a stop');
        const removal = kit.run(win, again[0]!, ['-r', ...common(win), ...(masterOn === win ? ['-p', '1'] : ['-n', '0'])]);
        t.equal(removal.status, 0, `-r exits 0; it printed:\n${removal.out}`);
        t.notOk(existsSync(registry), '-r removed the registry file');
      },
    );
  }
}

import t from 'tap';
import { platform, posix, windows } from '../../src/platform.js';
import { controlSocketPath } from '../../src/daemon/control.js';

// The control endpoint's name is all `pdsm status` and the daemon share (src/platform.ts):
// both compute it from the registry folder and the node. Windows' rule runs here too, since
// it is plain string work; the daemons using it under Wine are test/portability/windows-daemons.test.ts.
t.test('on POSIX the control socket is the file beside the registry file, as before', async (t) => {
  t.equal(platform, process.platform === 'win32' ? windows : posix, 'this process uses its own platform seams');
  t.equal(posix.controlPath('/srv/pdsm'), '/srv/pdsm/pdsm_master.sock');
  t.equal(posix.controlPath('/srv/pdsm', 3), '/srv/pdsm/pdsm_remote_3.sock');
  if (process.platform !== 'win32') t.equal(controlSocketPath('/srv/pdsm', 3), '/srv/pdsm/pdsm_remote_3.sock', 'control.ts uses the seam');
  t.same(posix.shutdownSignals, ['SIGINT', 'SIGTERM']);
  t.equal(posix.defaultRegistryDir(), '/tmp');
});

t.test('on Windows it is a named pipe per registry folder and node, the same for any spelling of the folder', async (t) => {
  const master = windows.controlPath('/srv/pdsm');
  t.match(master, /^\\\\\.\\pipe\\pdsm-[0-9a-f]{16}-master$/, 'the master: \\\\.\\pipe\\pdsm-<hash>-master');
  t.equal(windows.controlPath('/srv/pdsm', 0), master.replace(/master$/, 'remote-0'), 'remote 0: the same hash, -remote-0');
  t.equal(windows.controlPath('/SRV/PDSM'), master, 'case-folded: Windows paths are case-insensitive');
  t.equal(windows.controlPath('/srv/x/../pdsm/'), master, 'resolved first: another spelling of the folder gives the same pipe');
  t.not(windows.controlPath('/srv/pdsm2'), master, 'another folder gives another pipe');
  t.same(windows.shutdownSignals, ['SIGINT', 'SIGBREAK'], 'Ctrl+C and Ctrl+Break: Windows never delivers SIGTERM');
  t.equal(windows.commandLine(process.pid), undefined, 'no /proc to read: a live pid counts as a daemon');
  t.equal(windows.modeBits, false, 'mode bits are not checked there');
});

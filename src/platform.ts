/**
 * What the daemons and tools do differently on Windows, in one place: everything else runs
 * the same code on every platform. The POSIX answers are what PDSM always did; the Windows
 * ones say why they differ.
 *
 * - The control endpoint (src/daemon/control.ts): a UNIX socket file beside the registry
 *   file on POSIX; on Windows a named pipe, `\\.\pipe\pdsm-<folder hash>-master` or
 *   `-remote-<n>`, since Windows has no socket files. The hash of the resolved registry
 *   folder (case-folded: Windows paths are case-insensitive) keeps daemons of two folders
 *   apart as two socket files would, and `pdsm status` computes the same name.
 * - The default registry folder: /tmp, else the temp folder (os.tmpdir(), %TEMP%), as
 *   libpdsm's platform_win.c does.
 * - Permission bits: POSIX checks file modes and owners (key files 0600, registry files and
 *   sockets never group/world-writable). On Windows, Node's stat mode reflects only the
 *   read-only attribute (every file reads as 0666 or 0444) and uid is 0: access is ACLs,
 *   which Node cannot read. Checking the bits there would refuse every file, so they are
 *   not checked (`modeBits` false); the folder's ACL is what protects the files.
 * - Whether a live pid is a PDSM daemon: /proc/<pid>/cmdline on Linux; Windows has no /proc
 *   (and under Wine `/proc/<pid>` would name a Linux process of that number), so a live pid
 *   counts as a daemon, as an unreadable cmdline already did on POSIX.
 * - Shutdown signals: SIGINT and SIGTERM; on Windows SIGINT (Ctrl+C) and SIGBREAK
 *   (Ctrl+Break), which Node raises there (SIGTERM is never delivered on Windows).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface PlatformSeams {
  /** 'posix' or 'windows'. */
  kind: 'posix' | 'windows';
  /** Registry folder when neither -d nor $PDSM_REGISTRY_DIR says one. */
  defaultRegistryDir(): string;
  /** Whether the control endpoint is a named pipe (no file to secure or remove). */
  namedPipes: boolean;
  /** The control endpoint of the master (no client id) or of remote n in `registryDir`. */
  controlPath(registryDir: string, clientId?: number): string;
  /** Whether file mode bits and owners mean what POSIX says (see above). */
  modeBits: boolean;
  /** The command line of live process `pid`, or undefined when it cannot be read. */
  commandLine(pid: number): string | undefined;
  /** Signals that start a graceful shutdown. */
  shutdownSignals: NodeJS.Signals[];
}

function controlName(clientId?: number): string {
  return clientId === undefined ? 'master' : `remote-${clientId}`;
}

export const posix: PlatformSeams = {
  kind: 'posix',
  defaultRegistryDir: () => '/tmp',
  namedPipes: false,
  controlPath: (dir, clientId) => join(dir, clientId === undefined ? 'pdsm_master.sock' : `pdsm_remote_${clientId}.sock`),
  modeBits: true,
  commandLine(pid) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      return undefined;
    }
  },
  shutdownSignals: ['SIGINT', 'SIGTERM'],
};

export const windows: PlatformSeams = {
  kind: 'windows',
  defaultRegistryDir: () => tmpdir(),
  namedPipes: true,
  controlPath(dir, clientId) {
    const folder = createHash('sha256').update(resolve(dir).toLowerCase()).digest('hex').slice(0, 16);
    return `\\\\.\\pipe\\pdsm-${folder}-${controlName(clientId)}`;
  },
  modeBits: false,
  commandLine: () => undefined,
  shutdownSignals: ['SIGINT', 'SIGBREAK'],
};

/** The seams of the platform this process runs on. */
export const platform: PlatformSeams = process.platform === 'win32' ? windows : posix;

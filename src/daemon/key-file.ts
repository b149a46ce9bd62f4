/**
 * The pre-shared key file (--psk-file): at least 32 bytes, used as they are (make one with
 * `head -c 32 /dev/urandom > pdsm.key; chmod 600 pdsm.key`), owned by the daemon's user
 * and readable by it only. A key that others can read or replace is no secret, so such a
 * file stops the daemon (exit 1) naming the file and the problem.
 *
 * The file is opened once, without following a symbolic link (O_NOFOLLOW), and every check
 * is made on that open file (fstat), so nothing can swap the file between the checks and
 * the read (issue 19.4). The daemon reads it before it creates anything (src/daemon/run.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { PdsmError } from '../errors.js';
import { platform } from '../platform.js';

/** What PDSM's daemons require; the protocol's floor is 16 bytes (spec §9.1). */
export const MIN_KEY_FILE_BYTES = 32;

/** A key file is small; more than this is not a key file. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export function readKeyFile(path: string): Buffer {
  const fail = (why: string): PdsmError => new PdsmError('PDSM_ERR_KEY_FILE', `--psk-file ${path}: ${why}`);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO in its place must not hang the start; fstat refuses it below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw fail('is a symbolic link; give the key file itself');
    if (code === 'EISDIR') throw fail('is not a regular file');
    throw fail(`cannot read it: ${code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail('is not a regular file');
    // Windows has no owner or mode bits to check (ACLs; src/platform.ts): the folder's ACL guards the key there.
    const uid = platform.modeBits ? process.geteuid?.() : undefined;
    if (uid !== undefined && st.uid !== uid)
      throw fail(`is owned by uid ${st.uid}, not by this daemon's user (uid ${uid}); whoever owns it can replace the key`);
    if (platform.modeBits && (st.mode & 0o077) !== 0) {
      throw fail(`is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 on it`);
    }
    const key = Buffer.alloc(Math.min(st.size, MAX_KEY_FILE_BYTES));
    let n = 0;
    for (let i = 0; i < 1000 && n < key.byteLength; i++) {
      const got = readSync(fd, key, n, key.byteLength - n, n);
      if (got === 0) break;
      n += got;
    }
    if (n < MIN_KEY_FILE_BYTES) {
      throw fail(`holds ${n} bytes; a key needs at least ${MIN_KEY_FILE_BYTES} random bytes (head -c 32 /dev/urandom > ${path})`);
    }
    return key.subarray(0, n);
  } catch (err) {
    if (err instanceof PdsmError) throw err;
    throw fail(`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

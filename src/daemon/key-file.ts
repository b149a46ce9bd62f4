/**
 * The pre-shared key file (--psk-file): at least 32 bytes, used as they are (make one with
 * `head -c 32 /dev/urandom > pdsm.key; chmod 600 pdsm.key`), readable by its owner only. A
 * key that others can read is no secret, so such a file stops the daemon (exit 1) naming
 * the file and the problem.
 */
import { readFileSync, statSync } from 'node:fs';
import { PdsmError } from '../errors.js';

/** What PDSM's daemons require; the protocol's floor is 16 bytes (spec §9.1). */
export const MIN_KEY_FILE_BYTES = 32;

export function readKeyFile(path: string): Buffer {
  const fail = (why: string): PdsmError => new PdsmError('PDSM_ERR_KEY_FILE', `--psk-file ${path}: ${why}`);
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw fail(`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!st.isFile()) throw fail('is not a regular file');
  if ((st.mode & 0o077) !== 0) {
    throw fail(`is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 on it`);
  }
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (err) {
    throw fail(`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (key.byteLength < MIN_KEY_FILE_BYTES) {
    throw fail(`holds ${key.byteLength} bytes; a key needs at least ${MIN_KEY_FILE_BYTES} random bytes (head -c 32 /dev/urandom > ${path})`);
  }
  return key;
}

/**
 * The daemon's private state (issue 19, "Daemon state is private"): which process owns the
 * node's segments and the last epoch it used (spec §7.1). Both used to live in ST's owner
 * record, but ST is a segment that --mode opens to every local user (0666 by default), so
 * anyone could choose the next epoch or fake a live owner and stop a start or `-r`. Now they
 * live in a file beside the registry file (`<registry>.state`) that only the daemon's user can
 * write. ST's owner record is still written for the programs that read it, never read back.
 *
 * The file is a few `name value` lines, mode 0600. It is read without following a symlink and
 * every check is made on the open file (fstat): a regular file, owned by this daemon's user,
 * not writable by group or others; anything else stops the daemon naming path, owner and mode.
 * It is written atomically: a temp file created with O_EXCL|O_NOFOLLOW in the same folder,
 * fsync, rename. `-r` leaves it in place, so the epoch history survives the segments.
 *
 * Two daemons starting at once: the read-check-write of a claim runs under `<state>.lock`,
 * created with O_EXCL and holding the claimant's pid; a lock whose pid is dead is taken over.
 * It is held for the few system calls of a claim or an epoch, never while the daemon runs.
 */
import { closeSync, constants as fsc, fstatSync, lstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PdsmError } from '../errors.js';
import { platform } from '../platform.js';
import { isLiveDaemon, unixNs } from '../segments/status.js';

export const STATE_FILE_MODE = 0o600;
const MAX_STATE_BYTES = 4096;
const LOCK_WAIT_MS = 2000;
const LOCK_POLL_MS = 5;

export interface DaemonState {
  /** Pid of the daemon that owns the node's segments, 0 when none. */
  pid: number;
  /** The last epoch a daemon of this node used, 0 before the first. */
  epoch: number;
  /** When the owner started, Unix ns (0 when none). */
  startedNs: bigint;
}

/** The state file of the daemon whose registry file is `registryPath`. */
export function statePathFor(registryPath: string): string {
  return `${registryPath}.state`;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function stateError(path: string, why: string, cause?: unknown): PdsmError {
  return new PdsmError('PDSM_ERR_STATE_FILE', `daemon state file ${path}: ${why}`, cause === undefined ? undefined : { cause });
}

function linkOwner(path: string): string {
  try {
    const st = lstatSync(path);
    return `owner uid ${st.uid}, mode ${modeText(st.mode)}`;
  } catch {
    return 'gone since';
  }
}

/** Open `path` without following a symlink and check it is ours and private; undefined when missing. */
function openChecked(path: string, flags: number): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, flags | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw stateError(path, `is a symbolic link (${linkOwner(path)}); refusing to follow it (remove it)`, err);
    throw stateError(path, `cannot open it: ${code ?? (err as Error).message}`, err);
  }
  try {
    const st = fstatSync(fd);
    // Windows (platform.modeBits false): Node shows no owner or mode bits there; the folder's
    // ACL protects the file, as for the key file and the segments (src/platform.ts).
    const uid = platform.modeBits ? process.geteuid?.() : undefined;
    const where = `owner uid ${st.uid}, mode ${modeText(st.mode)}`;
    if (!st.isFile()) throw stateError(path, `is not a regular file (${where}); remove it`);
    if (uid !== undefined && st.uid !== uid) {
      throw stateError(path, `is owned by uid ${st.uid}, not by this daemon's user (uid ${uid}; mode ${modeText(st.mode)}); remove it`);
    }
    if (platform.modeBits && (st.mode & 0o022) !== 0) throw stateError(path, `is writable by group or others (${where}); remove it or chmod 600 it`);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(MAX_STATE_BYTES);
  let n = 0;
  for (let i = 0; i < 64 && n < buf.byteLength; i++) {
    const got = readSync(fd, buf, n, buf.byteLength - n, n);
    if (got === 0) break;
    n += got;
  }
  return buf.toString('latin1', 0, n);
}

export function parseState(text: string, path: string): DaemonState {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([a-z_]+) ([0-9]+)$/.exec(line);
    if (!m) throw stateError(path, `line ${JSON.stringify(line.slice(0, 40))} is not "name number"; remove the file`);
    fields.set(m[1]!, m[2]!);
  }
  const u32 = (name: string): number => {
    const v = Number(fields.get(name) ?? '0');
    if (!Number.isSafeInteger(v) || v > 0xffffffff) throw stateError(path, `${name} ${fields.get(name)} is out of range`);
    return v;
  };
  return { pid: u32('pid'), epoch: u32('epoch'), startedNs: BigInt(fields.get('started_ns') ?? '0') };
}

export function formatState(s: DaemonState): string {
  return `pid ${s.pid}\nepoch ${s.epoch}\nstarted_ns ${s.startedNs}\n`;
}

/** The state in `path`, or the empty state when there is no file yet. */
export function readState(path: string): DaemonState {
  const fd = openChecked(path, fsc.O_RDONLY);
  if (fd === undefined) return { pid: 0, epoch: 0, startedNs: 0n };
  try {
    return parseState(readAll(fd), path);
  } finally {
    closeSync(fd);
  }
}

/** Replace `path` atomically: temp file (O_EXCL, no symlink, 0600) in the same folder, fsync, rename. */
export function writeState(path: string, state: DaemonState): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, STATE_FILE_MODE);
  } catch (err) {
    throw stateError(path, `cannot write it in ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  try {
    writeSync(fd, formatState(state));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw stateError(path, `cannot write ${tmp}: ${(err as Error).message}`, err);
  }
  closeSync(fd);
  try {
    // The file in place is checked first: one of another user or a symlink is refused, not replaced.
    const old = openChecked(path, fsc.O_RDONLY);
    if (old !== undefined) closeSync(old);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof PdsmError) throw err;
    throw stateError(path, `cannot rename ${tmp} onto it: ${(err as Error).message}`, err);
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Run `fn` holding `<path>.lock` (see the file comment). */
function withLock<T>(path: string, what: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let tries = 0; ; tries++) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, STATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(lock, `cannot create it: ${(err as Error).message}`, err);
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      try {
        return fn();
      } finally {
        rmSync(lock, { force: true });
      }
    }
    const held = openChecked(lock, fsc.O_RDONLY);
    let holder = 0;
    if (held !== undefined) {
      try {
        holder = Number.parseInt(readAll(held), 10) || 0;
      } finally {
        closeSync(held);
      }
    }
    if (holder === 0 || holder === process.pid || !isLiveDaemon(holder)) {
      // Left by a daemon that died inside its claim (or half written): take it over.
      try {
        unlinkSync(lock);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(lock, `cannot remove a stale lock: ${(err as Error).message}`, err);
      }
    } else if (Date.now() > deadline || tries > LOCK_WAIT_MS / LOCK_POLL_MS) {
      throw new PdsmError('PDSM_ERR_ALREADY_RUNNING', `${what}: another daemon (pid ${holder}) is claiming the same segments (${lock})`);
    } else {
      sleepMs(LOCK_POLL_MS);
    }
  }
}

/** This daemon's hold on its private state; made by claim(). */
export class PrivateState {
  readonly path: string;
  #state: DaemonState;
  #released = false;

  private constructor(path: string, state: DaemonState) {
    this.path = path;
    this.#state = state;
  }

  /**
   * Claim the node for this process, or throw PDSM_ERR_ALREADY_RUNNING naming the live
   * owner. A dead owner's claim (killed, crashed) is taken over; its epoch is kept.
   */
  static claim(path: string, what: string, pid: number = process.pid): PrivateState {
    return withLock(path, what, () => {
      const current = readState(path);
      if (current.pid !== 0 && current.pid !== pid && isLiveDaemon(current.pid)) {
        throw new PdsmError('PDSM_ERR_ALREADY_RUNNING', `${what} is already running (pid ${current.pid}); refusing to start a second one`);
      }
      const state = { pid, epoch: current.epoch, startedNs: unixNs() };
      writeState(path, state);
      return new PrivateState(path, state);
    });
  }

  /** Pid of a live daemon other than this process that owns the node per `path`, else 0 (for `-r`). */
  static liveOwner(path: string): number {
    const { pid } = readState(path);
    return pid !== 0 && pid !== process.pid && isLiveDaemon(pid) ? pid : 0;
  }

  get epoch(): number {
    return this.#state.epoch;
  }

  /**
   * A new epoch (spec §7.1): Unix seconds, but always after the last one this node used
   * (serial order, §7.2), so a restart within the same second, after `-r` or after the clock
   * stepped back never reuses one. Never 0. Recorded before it is returned.
   */
  nextEpoch(nowSeconds: number = Math.floor(Date.now() / 1000)): number {
    const last = this.#state.epoch;
    let epoch = nowSeconds >>> 0;
    if (last !== 0 && ((epoch - last) | 0) <= 0) epoch = (last + 1) >>> 0;
    if (epoch === 0) epoch = 1;
    const next = { ...this.#state, epoch };
    writeState(this.path, next);
    this.#state = next;
    return epoch;
  }

  /** Give up the claim (pid 0, the epoch kept). Idempotent; never throws. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      writeState(this.path, { ...this.#state, pid: 0, startedNs: 0n });
    } catch {
      // A stale pid left behind is taken over at the next start (it is dead by then).
    }
  }
}

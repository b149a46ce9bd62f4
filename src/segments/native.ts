/**
 * The whole surface of the native addon (native/pdsm_shm.cc), typed. Nothing else in the
 * project loads the addon. The addon only makes SysV shared memory system calls (and hashes
 * pages); policy (key layout, sizes, registry files) lives in the other files of this folder.
 *
 * Every function throws a Node-style system error (`code` such as 'EEXIST', `errno`,
 * `syscall` such as 'shmget') when the system call fails, and a TypeError or RangeError for
 * bad arguments.
 * `errno` is the positive value of errno.h (EEXIST is 17), not libuv's negative one that
 * fs errors carry; the message reads "shmget EEXIST: File exists". Argument errors follow
 * Node's validators: TypeError with code ERR_INVALID_ARG_TYPE for a wrong type, RangeError
 * with code ERR_OUT_OF_RANGE for a number or bigint out of range (negative, fractional).
 *
 * Windows (native/shm_win.cc, built by scripts/build-win.sh): the same surface over named
 * file mappings `Local\pdsm-<key hex>`, or `Global\pdsm-<key hex>` with `global`
 * (src/segments/namespace.ts chooses; README "Platforms"). There ids are per process, stat
 * knows only this process's views, remove closes this process's handle (no IPC_RMID: the
 * mapping goes with the last handle or view anywhere), `errno` is the Win32 error number and
 * `winCode` its name, while `code` is the POSIX name (ENOENT, EEXIST, EACCES, EINVAL).
 */
import { createRequire } from 'node:module';

/** Result of IPC_STAT on a segment. */
export interface ShmStat {
  /** Segment size in bytes (shm_segsz). */
  size: number;
  /** Number of current attaches (shm_nattch). */
  attached: number;
  /** Pid of the creator (shm_cpid). */
  creatorPid: number;
  /** Pid of the last shmat/shmdt (shm_lpid). */
  lastPid: number;
  /** Permission bits (shm_perm.mode & 0o777). */
  mode: number;
  /** Owner uid (shm_perm.uid). */
  uid: number;
}

/** A mapping of a segment into this process. */
export interface ShmAttachment {
  /**
   * The mapped memory. After detach() its byteLength is 0 and every view on it is empty.
   * Without detach() the mapping lasts while this object or the buffer is reachable. Do not
   * write to the buffer of a read-only attachment: the write faults and kills the process.
   */
  readonly buffer: ArrayBuffer;
  /** The shmid it maps. */
  readonly id: number;
  /** True until detach(). */
  readonly attached: boolean;
  /** Detaches every ArrayBuffer handed out, then shmdt. Idempotent. */
  detach(): void;
}

export interface NativeShm {
  /**
   * shmget(key, size, flags). `create`: IPC_CREAT; `exclusive`: IPC_EXCL; `mode`: permission
   * bits. Returns the shmid. Opening an existing segment with size 0 skips the size check.
   * `global` (Windows only, ignored on POSIX): the `Global\` namespace instead of `Local\`.
   */
  get(key: number, size: number, mode: number, create: boolean, exclusive: boolean, global?: boolean): number;
  /** shmat(id, NULL, readOnly ? SHM_RDONLY : 0); the ArrayBuffer spans the segment size. */
  attach(id: number, readOnly: boolean): ShmAttachment;
  /** shmctl(id, IPC_STAT). */
  stat(id: number): ShmStat;
  /** shmctl(id, IPC_RMID): removed once the last process detaches. */
  remove(id: number): void;
  /**
   * XXH64 (seed given) of each `pageSize`-byte page of `data` into `out[i]`; the page
   * count is data.byteLength / pageSize (pageSize must divide it). Returns the count.
   */
  hashPages(data: Uint8Array, pageSize: number, seed: bigint, out: BigUint64Array): number;
  /** XXH64 of `data` with `seed`: the hash the spec puts on the wire (§5.4, DIGEST). */
  xxh64(data: Uint8Array, seed: bigint): bigint;
  /**
   * Like hashPages with XXH3-64: the scanner's local change detection (never on the wire;
   * faster than XXH64 on pages, docs/benchmarks.md). Same argument checks.
   */
  hashPagesXxh3(data: Uint8Array, pageSize: number, seed: bigint, out: BigUint64Array): number;
  /** XXH3-64 of `data` with `seed`. */
  xxh3(data: Uint8Array, seed: bigint): bigint;
}

const require = createRequire(import.meta.url);

function load(): NativeShm {
  // Built by `npm install` (node-gyp rebuild); Release first, Debug for local debugging, then
  // a cross-built addon for this platform and CPU (scripts/build-s390x.sh, build-win.sh write
  // prebuilds/<platform>-<arch>/). A file that exists but is for another machine (the x86-64
  // build seen by an emulated s390x node) fails to load: remember it and try the next one.
  const prebuilt = `prebuilds/${process.platform}-${process.arch}/pdsm_shm.node`;
  const candidates = [
    '../../../build/Release/pdsm_shm.node',
    '../../build/Release/pdsm_shm.node',
    '../../../build/Debug/pdsm_shm.node',
    '../../build/Debug/pdsm_shm.node',
    `../../../${prebuilt}`,
    `../../${prebuilt}`,
  ];
  let firstError: unknown;
  let foreignError: unknown;
  for (const path of candidates) {
    try {
      return require(path) as NativeShm;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_DLOPEN_FAILED') foreignError ??= err;
      else if (code !== 'MODULE_NOT_FOUND') throw err;
      firstError ??= err;
    }
  }
  throw new Error('the pdsm native addon is not built for ' + `${process.platform}-${process.arch}: run \`npm install\` (node-gyp rebuild)`, {
    cause: foreignError ?? firstError,
  });
}

export const native: NativeShm = load();

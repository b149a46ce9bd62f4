/**
 * One SysV shared memory segment attached to this process: the policy around the addon's
 * system calls. Opening never re-creates: an existing segment of another size is an error
 * that names both sizes and leaves the segment untouched (docs/design.md §2).
 */
import { PdsmError, isSystemError } from '../errors.js';
import { native, type ShmAttachment, type ShmStat } from './native.js';
import { TEST_ONLY_REFUSE_GLOBAL_ENV, type MappingNamespace } from './namespace.js';

export interface OpenOptions {
  /** Create the segment when it does not exist (IPC_CREAT | IPC_EXCL, then mode). */
  create: boolean;
  /** Permission bits for a segment that this call creates. */
  mode?: number;
  /** Map read-only (SHM_RDONLY). */
  readOnly?: boolean;
  /** Name for messages, e.g. "MO". */
  label?: string;
  /**
   * A daemon's own segments (issue 19.10): refuse an existing segment that another user
   * owns, or whose mode grants more than `mode` (a local user who created it first could
   * read or remove it). Library attaches leave this out.
   */
  own?: { uid: number; mode: number };
  /** Windows: the mapping's namespace (default Local); POSIX ignores it (src/segments/namespace.ts). */
  namespace?: MappingNamespace;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

export function formatKey(key: number): string {
  return `0x${key.toString(16)}`;
}

function segmentError(what: string, key: number, label: string, err: unknown): PdsmError {
  const detail = err instanceof Error ? err.message : String(err);
  return new PdsmError('PDSM_ERR_SEGMENT', `${what} ${label} segment key ${formatKey(key)}: ${detail}`, {
    cause: err,
  });
}

/** The shmid of an existing segment, or undefined when no segment has this key. */
export function findSegment(key: number, namespace: MappingNamespace = 'Local'): number | undefined {
  try {
    return native.get(key, 0, 0, false, false, namespace === 'Global');
  } catch (err) {
    if (isSystemError(err) && err.code === 'ENOENT') return undefined;
    throw segmentError('cannot look up', key, 'the', err);
  }
}

/** What Windows says to a Global\ create without SeCreateGlobalPrivilege (TEST_ONLY_REFUSE_GLOBAL_ENV). */
function refusedForTest(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`CreateFileMappingW EACCES: Access denied (${TEST_ONLY_REFUSE_GLOBAL_ENV}=1, test only)`);
  err.code = 'EACCES';
  err.errno = 5;
  err.syscall = 'CreateFileMappingW';
  return err;
}

export class Segment {
  readonly key: number;
  readonly id: number;
  readonly size: number;
  /** True when this call created the segment, false when it attached to an existing one. */
  readonly created: boolean;
  readonly label: string;
  #attachment: ShmAttachment;
  #buffer: Buffer;

  private constructor(key: number, id: number, size: number, created: boolean, label: string, readOnly: boolean) {
    this.key = key;
    this.id = id;
    this.size = size;
    this.created = created;
    this.label = label;
    this.#attachment = native.attach(id, readOnly);
    this.#buffer = Buffer.from(this.#attachment.buffer, 0, size);
  }

  /**
   * Attach to the segment with `key` and exactly `size` bytes, creating it if asked.
   * Throws PDSM_ERR_SEGMENT_SIZE when it exists with another size, PDSM_ERR_SEGMENT when it
   * does not exist (and create is false) or a system call fails.
   */
  static open(key: number, size: number, options: OpenOptions): Segment {
    const label = options.label ?? 'the';
    const readOnly = options.readOnly ?? false;
    const global = options.namespace === 'Global';
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = findSegment(key, options.namespace);
      if (existing !== undefined) {
        let stat: ShmStat;
        try {
          stat = native.stat(existing);
        } catch (err) {
          throw segmentError('cannot stat', key, label, err);
        }
        const own = options.own;
        if (own && (stat.uid !== own.uid || (stat.mode & ~own.mode & 0o777) !== 0)) {
          throw new PdsmError(
            'PDSM_ERR_SEGMENT',
            `${label} segment key ${formatKey(key)} exists owned by uid ${stat.uid} with mode ${octal(stat.mode)}; this daemon (uid ${own.uid}, --mode ${octal(own.mode)}) ` +
              'only re-attaches segments its own user created with no wider mode: it was left untouched (check who made it, then remove it with ipcrm)',
          );
        }
        if (stat.size !== size) {
          throw new PdsmError(
            'PDSM_ERR_SEGMENT_SIZE',
            `${label} segment key ${formatKey(key)} exists with size ${stat.size}, expected size ${size}; ` +
              'it was left untouched (remove it with -r, or use the same size)',
          );
        }
        try {
          return new Segment(key, existing, size, false, label, readOnly);
        } catch (err) {
          throw segmentError('cannot attach', key, label, err);
        }
      }
      if (!options.create) {
        throw new PdsmError('PDSM_ERR_SEGMENT', `${label} segment key ${formatKey(key)} does not exist`);
      }
      let id: number;
      try {
        if (global && process.env[TEST_ONLY_REFUSE_GLOBAL_ENV] === '1') throw refusedForTest();
        id = native.get(key, size, options.mode ?? 0o666, true, true, global);
      } catch (err) {
        // Another process created it between our look-up and our create: look again.
        if (isSystemError(err) && err.code === 'EEXIST') continue;
        throw segmentError('cannot create', key, label, err);
      }
      try {
        return new Segment(key, id, size, true, label, readOnly);
      } catch (err) {
        throw segmentError('cannot attach', key, label, err);
      }
    }
    throw new PdsmError('PDSM_ERR_SEGMENT', `${label} segment key ${formatKey(key)}: created and removed concurrently`);
  }

  /** Remove the segment with `key` if it exists. Returns true when one was removed. */
  static remove(key: number, namespace?: MappingNamespace): boolean {
    const id = findSegment(key, namespace);
    if (id === undefined) return false;
    try {
      native.remove(id);
    } catch (err) {
      if (isSystemError(err) && (err.code === 'EIDRM' || err.code === 'EINVAL')) return false;
      throw segmentError('cannot remove', key, 'the', err);
    }
    return true;
  }

  /** The whole segment. Empty after detach(). */
  get buffer(): Buffer {
    return this.#buffer;
  }

  get attached(): boolean {
    return this.#attachment.attached;
  }

  stat(): ShmStat {
    return native.stat(this.id);
  }

  /** Detach from this process; every view handed out reads as empty afterwards. Idempotent. */
  detach(): void {
    if (!this.#attachment.attached) return;
    this.#attachment.detach();
    this.#buffer = Buffer.alloc(0);
  }
}

/**
 * The status segment ST (docs/design.md §3b): one 64-byte record per flow, native byte order, and
 * the seqlock that lets applications read and write multi-word records whole.
 *
 * Record layout (offset: field):
 *   0 u64 generation   odd while a batch is being applied (incoming) or written (outgoing)
 *   8 u64 last batch applied or sent, Unix ns
 *  16 u64 peer last heard, Unix ns
 *  24 u32 peer state (0 unknown, 1 joining, 2 up, 3 down)
 *  28 u32 reserved
 *  32 u64 batches applied or sent
 *  40..63 reserved (zero)
 * After the flow records comes one owner record: u32 pid of the daemon that owns the
 * node's segments (0 when none), u32 its epoch, u64 its start time (Unix ns). The daemon
 * writes it for readers and never trusts it (issue 19.3): see src/daemon/state-file.ts.
 */
import { PdsmError } from '../errors.js';
import { platform } from '../platform.js';
import { ST_RECORD_SIZE } from './layout.js';

export const ST_GENERATION = 0;
export const ST_LAST_BATCH_NS = 8;
export const ST_PEER_HEARD_NS = 16;
export const ST_PEER_STATE = 24;
export const ST_BATCHES = 32;

export const PeerState = { UNKNOWN: 0, JOINING: 1, UP: 2, DOWN: 3 } as const;
export type PeerStateValue = (typeof PeerState)[keyof typeof PeerState];

/** Wall-clock time in Unix nanoseconds, for ST stamps only (intervals use a monotonic clock). */
export function unixNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Typed access to one status segment's records. */
export class StatusRecords {
  readonly #u64: BigUint64Array;
  readonly #u32: Uint32Array;
  readonly records: number;

  constructor(st: Uint8Array, records: number) {
    if (st.byteLength < (records + 1) * ST_RECORD_SIZE || st.byteOffset % 8 !== 0) {
      throw new PdsmError('PDSM_ERR_RANGE', `status segment of ${st.byteLength} bytes cannot hold ${records} records`);
    }
    this.#u64 = new BigUint64Array(st.buffer, st.byteOffset, ((records + 1) * ST_RECORD_SIZE) / 8);
    this.#u32 = new Uint32Array(st.buffer, st.byteOffset, ((records + 1) * ST_RECORD_SIZE) / 4);
    this.records = records;
  }

  #check(record: number): number {
    if (!Number.isInteger(record) || record < 0 || record >= this.records) {
      throw new PdsmError('PDSM_ERR_RANGE', `status record ${record} is out of range 0..${this.records - 1}`);
    }
    return record * (ST_RECORD_SIZE / 8);
  }

  generation(record: number): bigint {
    return Atomics.load(this.#u64, this.#check(record) + ST_GENERATION / 8);
  }

  /** Make the generation odd (begin) or even (end): one atomic increment each. */
  bump(record: number): bigint {
    return Atomics.add(this.#u64, this.#check(record) + ST_GENERATION / 8, 1n) + 1n;
  }

  stampBatch(record: number, at: bigint = unixNs()): void {
    const base = this.#check(record);
    Atomics.store(this.#u64, base + ST_LAST_BATCH_NS / 8, at);
    Atomics.add(this.#u64, base + ST_BATCHES / 8, 1n);
  }

  stampHeard(record: number, at: bigint = unixNs()): void {
    Atomics.store(this.#u64, this.#check(record) + ST_PEER_HEARD_NS / 8, at);
  }

  setPeerState(record: number, state: PeerStateValue): void {
    Atomics.store(this.#u32, this.#check(record) * 2 + ST_PEER_STATE / 4, state);
  }

  read(record: number): { generation: bigint; lastBatchNs: bigint; peerHeardNs: bigint; peerState: number; batches: bigint } {
    const base = this.#check(record);
    return {
      generation: Atomics.load(this.#u64, base + ST_GENERATION / 8),
      lastBatchNs: Atomics.load(this.#u64, base + ST_LAST_BATCH_NS / 8),
      peerHeardNs: Atomics.load(this.#u64, base + ST_PEER_HEARD_NS / 8),
      peerState: Atomics.load(this.#u32, base * 2 + ST_PEER_STATE / 4),
      batches: Atomics.load(this.#u64, base + ST_BATCHES / 8),
    };
  }

  /**
   * Publish the owner record for the programs that read it (README "Status segment"): u32 pid,
   * u32 epoch, u64 start time. The daemon never reads it back: ST is open to every user that
   * --mode lets in, so who owns the node and which epoch comes next are decided from the
   * daemon's private state file (src/daemon/state-file.ts), never from here.
   */
  publishOwner(pid: number, epoch: number, startedNs: bigint = unixNs()): void {
    const slot = (this.records * ST_RECORD_SIZE) / 4;
    Atomics.store(this.#u32, slot, pid >>> 0);
    Atomics.store(this.#u32, slot + 1, epoch >>> 0);
    Atomics.store(this.#u64, slot / 2 + 1, startedNs);
  }

  /** Clear the pid of the owner record (the epoch stays, for readers). */
  clearOwner(pid: number = process.pid): void {
    Atomics.compareExchange(this.#u32, (this.records * ST_RECORD_SIZE) / 4, pid, 0);
  }
}

/** True when `pid` is a live process that looks like a PDSM daemon (guards against pid reuse). */
export function isLiveDaemon(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // Alive but unreadable (or no /proc, as on Windows: src/platform.ts): assume it is one.
  return platform.commandLine(pid)?.includes('pdsm') ?? true;
}

export interface SeqlockOptions {
  /** Give up after this long, ms (default 200): a daemon descheduled mid-batch on a loaded host. */
  timeoutMs?: number;
  /** Give up after this many attempts too (default: no count limit). */
  maxTries?: number;
}

/**
 * Run `read` until it ran while the record's generation was even and unchanged (docs/design.md §3b
 * reader rule), and return its result. Throws PDSM_ERR_BUSY when no stable window came
 * within the time limit. It spins: a batch is applied in microseconds, so waiting on a
 * timer would cost far more than it saves.
 */
export function consistentRead<T>(st: StatusRecords, record: number, read: () => T, options: SeqlockOptions = {}): T {
  const timeoutMs = options.timeoutMs ?? 200;
  const maxTries = options.maxTries ?? Infinity;
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < maxTries; i++) {
    const before = st.generation(record);
    if ((before & 1n) === 0n) {
      const value = read();
      if (st.generation(record) === before) return value;
    }
    if ((i & 63) === 63 && performance.now() > deadline) break;
  }
  throw new PdsmError('PDSM_ERR_BUSY', `status record ${record}: no stable generation within ${timeoutMs} ms or ${maxTries} tries`);
}

/**
 * Make a multi-word update travel whole (docs/design.md §3b writer rule): the generation is made
 * odd, `write` runs, and it is made even again, also when `write` throws.
 */
export function consistentWrite<T>(st: StatusRecords, record: number, write: () => T): T {
  st.bump(record);
  try {
    return write();
  } finally {
    st.bump(record);
  }
}

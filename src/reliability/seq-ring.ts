/**
 * A window of consecutive sequence numbers (spec §3: 32-bit serial numbers that wrap) and a
 * value per number, oldest first: what a sender's retransmit history is (spec §7.4: contiguous
 * up to next_seq - 1). Numbers join at the new end and leave at the old end only.
 *
 * Why not a Map: a history sized for the largest batch holds up to ~330 000 entries (a full
 * 256 MiB batch and a quarter), and a Map that has one entry added and one deleted per datagram
 * rehashes its whole table every so often: 82 ms in one pump slice in bench/history.ts, 86 ms
 * in a daemon's profile (issue 12: no task of the daemon's own may hold the event loop for
 * more than ~20 ms). Nor one array that doubles: copying 256k entries into a new one of 512k
 * took up to 23 ms. Entries live in chunks of CHUNK numbers (aligned to multiples of CHUNK, so
 * the alignment holds across 2^32), added and dropped one at a time: every operation is O(1),
 * and the largest allocation is one chunk (64 KiB).
 *
 * Each entry also holds a number (`stamp`, NaN until set): the history's last-resent time,
 * kept here rather than in a second map of the same numbers.
 */
import { seqAdd } from '../udp/serial.js';

const CHUNK_BITS = 12;
/** Numbers per chunk. */
export const CHUNK = 1 << CHUNK_BITS;
const LOW = CHUNK - 1;
/** 2^30 entries: far beyond any history (the window must stay under 2^31, spec §3). */
const MAX_SIZE = 2 ** 30;
/** Emptied chunks kept for reuse, so a full window sliding on allocates nothing. */
const SPARE = 2;

interface Chunk<T> {
  values: (T | undefined)[];
  stamps: Float64Array;
}

export class SeqRing<T> {
  /** chunks[0] holds #first, at index #first & LOW; each later chunk the next CHUNK numbers. */
  readonly #chunks: Chunk<T>[] = [];
  readonly #spare: Chunk<T>[] = [];
  /** The oldest number held (meaningless while empty). */
  #first = 0;
  #size = 0;

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** The oldest number held, undefined when empty. */
  get oldest(): number | undefined {
    return this.#size === 0 ? undefined : this.#first;
  }

  /** True when `seq` is in the window. */
  has(seq: number): boolean {
    return (seq - this.#first) >>> 0 < this.#size;
  }

  get(seq: number): T | undefined {
    const p = this.#position(seq);
    return p < 0 ? undefined : this.#chunks[p >>> CHUNK_BITS]!.values[p & LOW];
  }

  /** The number stored with `seq` (NaN when none was, or `seq` is not held). */
  stamp(seq: number): number {
    const p = this.#position(seq);
    return p < 0 ? Number.NaN : this.#chunks[p >>> CHUNK_BITS]!.stamps[p & LOW]!;
  }

  setStamp(seq: number, value: number): void {
    const p = this.#position(seq);
    if (p >= 0) this.#chunks[p >>> CHUNK_BITS]!.stamps[p & LOW] = value;
  }

  /** Add `seq` at the new end: it must follow the newest held (any number when empty). */
  push(seq: number, value: T): void {
    seq >>>= 0;
    if (this.#size === 0) this.#first = seq;
    else if (seq !== seqAdd(this.#first, this.#size)) throw new RangeError(`seq ${seq} does not follow ${seqAdd(this.#first, this.#size - 1)}`);
    if (this.#size >= MAX_SIZE) throw new RangeError(`a window of ${this.#size} sequence numbers is full`);
    const p = (this.#first & LOW) + this.#size;
    if (p >>> CHUNK_BITS === this.#chunks.length)
      this.#chunks.push(this.#spare.pop() ?? { values: new Array<T | undefined>(CHUNK).fill(undefined), stamps: new Float64Array(CHUNK) });
    const c = this.#chunks[p >>> CHUNK_BITS]!;
    c.values[p & LOW] = value;
    c.stamps[p & LOW] = Number.NaN;
    this.#size++;
  }

  /** Remove the oldest entry and return its value (undefined when empty). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const i = this.#first & LOW;
    const c = this.#chunks[0]!;
    const v = c.values[i];
    c.values[i] = undefined; // let the datagram go
    this.#first = seqAdd(this.#first, 1);
    this.#size--;
    if (i === LOW) {
      // Its last number left. (Emptied mid-chunk, the window keeps the chunk: the next push,
      // of any number, lands at that number's index in it.)
      this.#chunks.shift();
      if (this.#spare.length < SPARE) this.#spare.push(c);
    }
    return v;
  }

  /** Where `seq` is, counted from the start of chunks[0]; -1 when not held. */
  #position(seq: number): number {
    const d = (seq - this.#first) >>> 0;
    return d < this.#size ? (this.#first & LOW) + d : -1;
  }
}

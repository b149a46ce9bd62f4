/**
 * The anti-replay window of spec/protocol.md §9.4 (the sliding bitmap of RFC 4303 §3.4.3,
 * 1024 packets wide). A receiver keeps one window per sender key stream, that is per
 * (src, dst, epoch), and updates it only for datagrams that open() authenticated, so a
 * forged packet number cannot move the window.
 */
import { REPLAY_WINDOW_SIZE } from './constants.js';

export class ReplayWindow {
  readonly size: number;
  /** spec: highest_pn, the highest packet number accepted so far (-1: none yet). */
  #highest = -1;
  /** Bit i (of word i >>> 5) is set when packet highest - i was accepted. */
  readonly #bits: Uint32Array;

  constructor(size: number = REPLAY_WINDOW_SIZE) {
    if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) throw new RangeError('window size must be a multiple of 32');
    this.size = size;
    this.#bits = new Uint32Array(size / 32);
  }

  get highest(): number {
    return this.#highest;
  }

  /** Would `pn` be accepted? (Does not record it.) */
  check(pn: number): boolean {
    if (pn > this.#highest) return true;
    const age = this.#highest - pn;
    if (age >= this.size) return false; // too old to tell: drop
    return (((this.#bits[age >>> 5] ?? 0) >>> (age & 31)) & 1) === 0;
  }

  /** Check and record `pn`; true when it is new and inside the window. */
  accept(pn: number): boolean {
    if (!this.check(pn)) return false;
    if (pn > this.#highest) {
      this.#shift(this.#highest < 0 ? this.size : pn - this.#highest);
      this.#highest = pn;
      this.#set(0);
    } else {
      this.#set(this.#highest - pn);
    }
    return true;
  }

  #set(age: number): void {
    const i = age >>> 5;
    this.#bits[i] = ((this.#bits[i] ?? 0) | (1 << (age & 31))) >>> 0;
  }

  /** Age every recorded packet by `by` (bits move towards higher indexes). */
  #shift(by: number): void {
    const words = this.#bits.length;
    if (by >= this.size) {
      this.#bits.fill(0);
      return;
    }
    const wordShift = by >>> 5;
    const bitShift = by & 31;
    for (let i = words - 1; i >= 0; i--) {
      const src = i - wordShift;
      const lo = src >= 0 ? (this.#bits[src] ?? 0) : 0;
      const lower = src - 1 >= 0 ? (this.#bits[src - 1] ?? 0) : 0;
      this.#bits[i] = bitShift === 0 ? lo : ((lo << bitShift) | (lower >>> (32 - bitShift))) >>> 0;
    }
  }
}

/**
 * Small buffers carved out of larger slabs: the staged payloads of a receiver and the
 * retransmit history of a sender (issue 12). One ArrayBuffer per 1 KiB payload made a
 * 256 MiB full batch 262 144 ArrayBuffers alive at once on each side, and every garbage
 * collection while it was held walked them (pauses of hundreds of ms). A slab is freed as a
 * whole once none of its pieces is referenced, so slabs stay small: a few long-held pieces
 * keep little memory alive.
 *
 * No I/O, no timers.
 */

/** Bytes of one slab: 64 KiB, 60 payloads of 1 KiB. */
export const SLAB_BYTES = 64 * 1024;

export class Slabs {
  readonly #slabBytes: number;
  #slab: Buffer | undefined;
  #used = 0;

  constructor(slabBytes = SLAB_BYTES) {
    this.#slabBytes = slabBytes;
  }

  /** `n` bytes, not cleared (the caller writes all of them), 8-byte aligned. */
  alloc(n: number): Buffer {
    let slab = this.#slab;
    if (slab === undefined || this.#used + n > slab.byteLength) {
      slab = this.#slab = Buffer.allocUnsafeSlow(Math.max(this.#slabBytes, n));
      this.#used = 0;
    }
    const piece = slab.subarray(this.#used, this.#used + n);
    this.#used += (n + 7) & ~7;
    return piece;
  }

  /** A copy of `bytes` in a slab. */
  copy(bytes: Uint8Array): Buffer {
    const piece = this.alloc(bytes.byteLength);
    piece.set(bytes);
    return piece;
  }

  /** Forget the current slab (what was handed out stays valid). */
  release(): void {
    this.#slab = undefined;
    this.#used = 0;
  }
}

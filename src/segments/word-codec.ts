/**
 * The network-neutral form of a page (spec/protocol.md §5.3): the page read as W-byte
 * unsigned words (W = word size: 1, 2, 4 or 8) and written big-endian. Hosts of either
 * byte order exchange the same bytes, and a word an application stored natively arrives
 * as the same number.
 *
 * Converting is its own inverse (a byte swap per word on little-endian hosts, a plain copy
 * on big-endian ones), so toWire and fromWire do the same work; both exist so call sites
 * say which way the data goes. Speed: one memcpy, then Buffer's swap16/32/64, which run in
 * native code.
 */
import { PdsmError } from '../errors.js';

export type WordSize = 1 | 2 | 4 | 8;

/** Detected once: true on x86, ARM in its usual mode, and most other hosts Node runs on. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function check(src: Uint8Array, dst: Uint8Array, wordSize: number): void {
  if (wordSize !== 1 && wordSize !== 2 && wordSize !== 4 && wordSize !== 8) {
    throw new PdsmError('PDSM_ERR_RANGE', `word size must be 1, 2, 4 or 8, got ${wordSize}`);
  }
  if (src.byteLength !== dst.byteLength) {
    throw new PdsmError('PDSM_ERR_RANGE', `source has ${src.byteLength} bytes but destination ${dst.byteLength}`);
  }
  if (src.byteLength % wordSize !== 0) {
    throw new PdsmError('PDSM_ERR_RANGE', `${src.byteLength} bytes is not a whole number of ${wordSize}-byte words`);
  }
}

function swapInPlace(bytes: Uint8Array, wordSize: WordSize, littleEndian: boolean): void {
  if (!littleEndian || wordSize === 1 || bytes.byteLength === 0) return;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (wordSize === 2) b.swap16();
  else if (wordSize === 4) b.swap32();
  else b.swap64();
}

/**
 * Copy native words from `src` into `dst` in the network-neutral form. `src` and `dst` may
 * be the same array (in-place); they must not otherwise overlap.
 */
export function toWire(src: Uint8Array, dst: Uint8Array, wordSize: WordSize): void {
  convert(src, dst, wordSize, HOST_LITTLE_ENDIAN);
}

/** Copy network-neutral words from `src` into `dst` in this host's byte order. */
export function fromWire(src: Uint8Array, dst: Uint8Array, wordSize: WordSize): void {
  convert(src, dst, wordSize, HOST_LITTLE_ENDIAN);
}

/**
 * The conversion for a host of the given byte order; exported so tests can exercise the
 * big-endian path (a plain copy) on a little-endian machine.
 */
export function convert(src: Uint8Array, dst: Uint8Array, wordSize: WordSize, littleEndian: boolean): void {
  check(src, dst, wordSize);
  if (src !== dst) dst.set(src);
  swapInPlace(dst, wordSize, littleEndian);
}

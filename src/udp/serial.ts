/**
 * Serial-number arithmetic on the 32-bit sequence and batch spaces (spec/protocol.md §7.2,
 * after RFC 1982 with SERIAL_BITS = 32). Every flow's sequence numbers wrap from 2**32-1 to
 * 0; comparisons are only meaningful between numbers less than 2**31 apart, which the
 * protocol guarantees by keeping every window (history, NACK range, batch) under 2**31.
 */

export const SEQ_MODULUS = 0x1_0000_0000;

/** a + n modulo 2**32 (n may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * The signed distance a - b, in [-2**31, 2**31). Positive when a is after b. At exactly
 * 2**31 apart RFC 1982 leaves the order undefined; this returns -2**31 there.
 */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a is before b (RFC 1982 s1 < s2). */
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLte(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGte(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}

/** The later of a and b. */
export function seqMax(a: number, b: number): number {
  return seqDiff(a, b) >= 0 ? a : b;
}

/** True when x lies in the `count` numbers starting at `first` (which may wrap). */
export function seqInRange(x: number, first: number, count: number): boolean {
  return (x - first) >>> 0 < count;
}

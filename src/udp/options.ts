/**
 * Options of HELLO, WELCOME and REJECT (spec/protocol.md §4.5): a list of
 * type-length-value entries after the fixed fields, the one place a version-1 message may
 * grow without a version bump. Receivers skip option types they do not know, but keep
 * them so that a decoded message re-encodes to the same bytes.
 */
import { OPTION_HEADER_SIZE } from './constants.js';
import type { Rejected } from './header.js';
import { reject } from './header.js';

/** One option as it travels: type 1..255, value 0..255 bytes. */
export interface RawOption {
  type: number;
  value: Uint8Array;
}

/**
 * spec §4.5: read options from `start` to the end of the datagram. Canonical form only:
 * types strictly ascending (so at most one of each), type 0 is invalid, no partial entry.
 * Values are subarrays of `bytes` (no copy).
 */
export function readOptions(bytes: Uint8Array, start: number): { ok: true; options: RawOption[] } | Rejected {
  const options: RawOption[] = [];
  let at = start;
  let lastType = 0;
  while (at < bytes.byteLength) {
    if (at + OPTION_HEADER_SIZE > bytes.byteLength) return reject('option');
    const type = bytes[at] ?? 0;
    const length = bytes[at + 1] ?? 0;
    if (type <= lastType) return reject('option'); // type 0, duplicate or out of order
    const end = at + OPTION_HEADER_SIZE + length;
    if (end > bytes.byteLength) return reject('option');
    options.push({ type, value: bytes.subarray(at + OPTION_HEADER_SIZE, end) });
    lastType = type;
    at = end;
  }
  return { ok: true, options };
}

/** Take the option of `type` out of `options` (it is at most once there). */
export function takeOption(options: RawOption[], type: number): Uint8Array | null {
  const i = options.findIndex((o) => o.type === type);
  if (i < 0) return null;
  const [found] = options.splice(i, 1);
  return found ? found.value : null;
}

/** Bytes `options` take on the wire. */
export function optionsSize(options: readonly RawOption[]): number {
  let n = 0;
  for (const o of options) n += OPTION_HEADER_SIZE + o.value.byteLength;
  return n;
}

/**
 * Merge the known options (already encoded) with the unknown ones a message carries, in
 * canonical order. Throws a RangeError when a type repeats or a value is too long.
 */
export function canonicalOptions(known: RawOption[], unknown: readonly RawOption[]): RawOption[] {
  const all = [...known, ...unknown].sort((a, b) => a.type - b.type);
  let last = 0;
  for (const o of all) {
    if (!Number.isInteger(o.type) || o.type < 1 || o.type > 255) throw new RangeError(`option type must be 1..255, got ${o.type}`);
    if (o.type === last) throw new RangeError(`option type ${o.type} appears twice`);
    if (o.value.byteLength > 255) throw new RangeError(`option ${o.type} longer than 255 bytes`);
    last = o.type;
  }
  return all;
}

/** Write options at `offset` of `buf`; returns the offset after them. */
export function writeOptions(buf: Uint8Array, offset: number, options: readonly RawOption[]): number {
  let at = offset;
  for (const o of options) {
    buf[at] = o.type;
    buf[at + 1] = o.value.byteLength;
    buf.set(o.value, at + OPTION_HEADER_SIZE);
    at += OPTION_HEADER_SIZE + o.value.byteLength;
  }
  return at;
}

/**
 * An ASCII string option: 1..255 bytes, each in lo..0x7e (spec §4.5: HOSTNAME allows
 * 0x21..0x7e, TEXT 0x20..0x7e). Returns null when the value breaks the rule.
 */
export function asciiFrom(value: Uint8Array, lo: number): string | null {
  if (value.byteLength < 1) return null;
  let s = '';
  for (const b of value) {
    if (b < lo || b > 0x7e) return null;
    s += String.fromCharCode(b);
  }
  return s;
}

export function asciiTo(s: string, lo: number, name: string): Uint8Array {
  if (s.length < 1 || s.length > 255) throw new RangeError(`${name} must be 1..255 characters`);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < lo || c > 0x7e) throw new RangeError(`${name} has a character outside 0x${lo.toString(16)}..0x7e`);
    out[i] = c;
  }
  return out;
}

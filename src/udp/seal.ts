/**
 * Authentication and encryption of datagrams with a pre-shared key (spec/protocol.md §9).
 *
 * - Keys: one per (sender, destination), HKDF-SHA256 from the PSK (RFC 5869), so the
 *   master's streams to different remotes never share a key.
 * - AEAD: ChaCha20-Poly1305 (RFC 8439) from node:crypto, 16-byte tag.
 * - Nonce: the 12 header bytes epoch || packet_number. A sender counts packet numbers per
 *   key from 0 in each epoch and never reuses an epoch (spec §7.1), so a nonce never
 *   repeats under a key.
 * - AAD: the 24-byte header with the SEALED flag set, so nothing in it can be changed.
 *
 * open() never throws on wire bytes; it returns a rejection instead.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import {
  AEAD_ALGORITHM, FLAG_SEALED, HDR_FLAGS, HDR_MAGIC, HDR_NONCE, HEADER_SIZE, KEY_SIZE, MAGIC, MIN_PSK_SIZE,
  NONCE_SIZE, TAG_SIZE,
} from './constants.js';

/** spec §9.2 HKDF salt and info prefix. */
export const HKDF_SALT = Buffer.from('PDSM v1', 'ascii');
export const HKDF_INFO_PREFIX = Buffer.from('pdsm v1 datagram key', 'ascii');

/** spec §9.2: the key for datagrams from `src` to `dst` (node ids as in the header). */
export function deriveKey(psk: Uint8Array, src: number, dst: number): Buffer {
  if (psk.byteLength < MIN_PSK_SIZE) throw new RangeError(`a pre-shared key needs at least ${MIN_PSK_SIZE} bytes`);
  const info = Buffer.alloc(HKDF_INFO_PREFIX.byteLength + 4);
  HKDF_INFO_PREFIX.copy(info, 0);
  info.writeUInt16BE(src, HKDF_INFO_PREFIX.byteLength);
  info.writeUInt16BE(dst, HKDF_INFO_PREFIX.byteLength + 2);
  return Buffer.from(hkdfSync('sha256', psk, HKDF_SALT, info, KEY_SIZE));
}

/** Derives and caches the per-(src, dst) keys of one PSK. */
export class PskKeys {
  readonly #psk: Buffer;
  readonly #keys = new Map<number, Buffer>();

  constructor(psk: Uint8Array) {
    if (psk.byteLength < MIN_PSK_SIZE) throw new RangeError(`a pre-shared key needs at least ${MIN_PSK_SIZE} bytes`);
    this.#psk = Buffer.from(psk);
  }

  key(src: number, dst: number): Buffer {
    const id = src * 0x10000 + dst;
    let k = this.#keys.get(id);
    if (k === undefined) {
      k = deriveKey(this.#psk, src, dst);
      this.#keys.set(id, k);
    }
    return k;
  }
}

/**
 * spec §9.3: seal a plain encoded datagram (SEALED clear) with `key`. Returns
 * header (SEALED set) || ciphertext of the body || 16-byte tag.
 */
export function seal(key: Uint8Array, datagram: Uint8Array): Buffer {
  if (datagram.byteLength < HEADER_SIZE) throw new RangeError('datagram shorter than the header');
  const flags = datagram[HDR_FLAGS] ?? 0;
  if ((flags & FLAG_SEALED) !== 0) throw new RangeError('datagram is already sealed');
  const out = Buffer.alloc(datagram.byteLength + TAG_SIZE);
  out.set(datagram.subarray(0, HEADER_SIZE), 0);
  out[HDR_FLAGS] = flags | FLAG_SEALED;
  const header = out.subarray(0, HEADER_SIZE);
  const body = datagram.subarray(HEADER_SIZE);
  const cipher = createCipheriv(AEAD_ALGORITHM, key, header.subarray(HDR_NONCE, HDR_NONCE + NONCE_SIZE), {
    authTagLength: TAG_SIZE,
  });
  cipher.setAAD(header, { plaintextLength: body.byteLength });
  const ct = Buffer.concat([cipher.update(body), cipher.final()]);
  out.set(ct, HEADER_SIZE);
  out.set(cipher.getAuthTag(), HEADER_SIZE + ct.byteLength);
  return out;
}

export type OpenRejectReason = 'short' | 'magic' | 'not-sealed' | 'auth';
export type OpenResult = { ok: true; datagram: Buffer } | { ok: false; reason: OpenRejectReason };

/** True when the datagram's header says SEALED (whatever the rest holds). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.byteLength >= HEADER_SIZE && ((bytes[HDR_FLAGS] ?? 0) & FLAG_SEALED) !== 0;
}

/**
 * spec §9.3: check and decrypt a sealed datagram. On success returns the plain datagram
 * (SEALED cleared) ready for decode(). Check the replay window after this succeeds.
 */
export function open(key: Uint8Array, sealed: Uint8Array): OpenResult {
  if (sealed.byteLength < HEADER_SIZE + TAG_SIZE) return { ok: false, reason: 'short' };
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.readUInt32BE(HDR_MAGIC) !== MAGIC) return { ok: false, reason: 'magic' };
  if (!isSealed(bytes)) return { ok: false, reason: 'not-sealed' };
  const header = bytes.subarray(0, HEADER_SIZE);
  const ct = bytes.subarray(HEADER_SIZE, bytes.byteLength - TAG_SIZE);
  const tag = bytes.subarray(bytes.byteLength - TAG_SIZE);
  try {
    const decipher = createDecipheriv(AEAD_ALGORITHM, key, header.subarray(HDR_NONCE, HDR_NONCE + NONCE_SIZE), {
      authTagLength: TAG_SIZE,
    });
    decipher.setAAD(header, { plaintextLength: ct.byteLength });
    decipher.setAuthTag(tag);
    const pt = Buffer.concat([decipher.update(ct), decipher.final()]);
    const out = Buffer.alloc(HEADER_SIZE + pt.byteLength);
    out.set(header, 0);
    out[HDR_FLAGS] = (header[HDR_FLAGS] ?? 0) & ~FLAG_SEALED;
    out.set(pt, HEADER_SIZE);
    return { ok: true, datagram: out };
  } catch {
    // node:crypto throws when the tag does not verify (or the key has the wrong length).
    return { ok: false, reason: 'auth' };
  }
}

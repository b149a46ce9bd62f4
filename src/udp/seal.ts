/**
 * Authentication and encryption of datagrams with a pre-shared key (spec/protocol.md §9).
 *
 * - AEAD: ChaCha20-Poly1305 (RFC 8439) from node:crypto, 16-byte tag, 12-byte nonce = the
 *   header bytes epoch || packet_number, AAD = the header with SEALED set.
 * - Keys (spec §9.2), all HKDF-SHA256 (RFC 5869) from the PSK, in the spirit of the TLS 1.3
 *   PSK key schedule (RFC 8446 §7.1) and WireGuard: nothing long-lived ever seals data.
 *   - handshake key: HELLO, WELCOME and REJECT are sealed under a key derived from a fresh
 *     random 16-byte salt that travels in clear after the header. A new salt per datagram
 *     makes a new key per datagram, so no (key, nonce) pair can repeat, whatever the epoch.
 *   - session keys: every other datagram of a session is sealed under a key derived from
 *     both sides' fresh nonces (HELLO's and WELCOME's NONCE options) and both epochs, one
 *     per direction. A recorded session never opens under a new one, and a repeated epoch
 *     cannot repeat a nonce: the key is new each session.
 *   - group key: the master's multicast BC stream (Dst ALL) under a key from a nonce the
 *     master draws once per process (WELCOME's GROUP_NONCE).
 * - The cookie (spec §4.2, RFC 9000 §8.1): an HMAC of the session's identity under a secret
 *   the master draws at start; the remote echoes it in HEARTBEAT to prove it receives at
 *   its address.
 *
 * open() never throws on wire bytes; it returns a rejection instead.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import {
  AEAD_ALGORITHM,
  COOKIE_BYTES,
  COOKIE_SECRET_SIZE,
  FLAG_SEALED,
  HANDSHAKE_SALT_SIZE,
  HDR_FLAGS,
  HDR_MAGIC,
  HDR_NONCE,
  HEADER_SIZE,
  KEY_SIZE,
  MAGIC,
  MIN_PSK_SIZE,
  NODE_ALL,
  NODE_MASTER,
  NONCE_BYTES,
  NONCE_SIZE,
  TAG_SIZE,
  TYPE_HELLO,
  TYPE_REJECT,
  TYPE_WELCOME,
  HDR_TYPE,
} from './constants.js';

/** spec §9.2 version 2 labels (ASCII, no terminator). */
export const HANDSHAKE_INFO = Buffer.from('pdsm v2 handshake key', 'ascii');
export const SESSION_SALT_LABEL = Buffer.from('PDSM v2 session', 'ascii');
export const SESSION_INFO = Buffer.from('pdsm v2 session key', 'ascii');
export const GROUP_SALT_LABEL = Buffer.from('PDSM v2 group', 'ascii');
export const GROUP_INFO = Buffer.from('pdsm v2 group key', 'ascii');
export const COOKIE_LABEL = Buffer.from('pdsm v2 cookie', 'ascii');

function checkPsk(psk: Uint8Array): void {
  if (psk.byteLength < MIN_PSK_SIZE) throw new RangeError(`a pre-shared key needs at least ${MIN_PSK_SIZE} bytes`);
}

function checkNonce(n: Uint8Array, name: string): void {
  if (n.byteLength !== NONCE_BYTES) throw new RangeError(`${name} must be ${NONCE_BYTES} bytes, got ${n.byteLength}`);
}

function route(src: number, dst: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(src, 0);
  b.writeUInt16BE(dst, 2);
  return b;
}

/** spec §9.2: the key of one sealed HELLO, WELCOME or REJECT, from its clear salt. */
export function deriveHandshakeKey(psk: Uint8Array, salt: Uint8Array, src: number, dst: number): Buffer {
  checkPsk(psk);
  if (salt.byteLength !== HANDSHAKE_SALT_SIZE) throw new RangeError(`a handshake salt is ${HANDSHAKE_SALT_SIZE} bytes`);
  return Buffer.from(hkdfSync('sha256', psk, salt, Buffer.concat([HANDSHAKE_INFO, route(src, dst)]), KEY_SIZE));
}

/** What both sides know once the WELCOME is out (master) or in (remote): spec §9.2. */
export interface SessionSecrets {
  clientId: number;
  /** The HELLO's NONCE option (the remote's fresh randomness). */
  helloNonce: Uint8Array;
  /** The WELCOME's NONCE option (the master's fresh randomness). */
  welcomeNonce: Uint8Array;
  /** The remote's epoch (HELLO header) and the master's (WELCOME header). */
  remoteEpoch: number;
  masterEpoch: number;
}

/** One session's two keys, as seen from one side: `send` seals, `receive` opens. */
export interface SessionKeys {
  send: Buffer;
  receive: Buffer;
}

/** spec §9.2: the session key for datagrams from `src` to `dst` of the session `s`. */
export function deriveSessionKey(psk: Uint8Array, s: SessionSecrets, src: number, dst: number): Buffer {
  checkPsk(psk);
  checkNonce(s.helloNonce, 'helloNonce');
  checkNonce(s.welcomeNonce, 'welcomeNonce');
  const salt = Buffer.concat([SESSION_SALT_LABEL, s.helloNonce, s.welcomeNonce]);
  const epochs = Buffer.alloc(8);
  epochs.writeUInt32BE(s.remoteEpoch >>> 0, 0);
  epochs.writeUInt32BE(s.masterEpoch >>> 0, 4);
  return Buffer.from(hkdfSync('sha256', psk, salt, Buffer.concat([SESSION_INFO, epochs, route(src, dst)]), KEY_SIZE));
}

/** Both keys of a session for one side (the master sends to the client id, the remote to MASTER). */
export function deriveSessionKeys(psk: Uint8Array, s: SessionSecrets, side: 'master' | 'remote'): SessionKeys {
  const toRemote = deriveSessionKey(psk, s, NODE_MASTER, s.clientId);
  const toMaster = deriveSessionKey(psk, s, s.clientId, NODE_MASTER);
  return side === 'master' ? { send: toRemote, receive: toMaster } : { send: toMaster, receive: toRemote };
}

/** spec §9.2: the key of the master's multicast stream (Dst ALL) for one master process. */
export function deriveGroupKey(psk: Uint8Array, groupNonce: Uint8Array, masterEpoch: number): Buffer {
  checkPsk(psk);
  checkNonce(groupNonce, 'groupNonce');
  const epoch = Buffer.alloc(4);
  epoch.writeUInt32BE(masterEpoch >>> 0, 0);
  const info = Buffer.concat([GROUP_INFO, epoch, route(NODE_MASTER, NODE_ALL)]);
  return Buffer.from(hkdfSync('sha256', psk, Buffer.concat([GROUP_SALT_LABEL, groupNonce]), info, KEY_SIZE));
}

/** 16 fresh random bytes for a NONCE or GROUP_NONCE option (spec §4.5). */
export function freshNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/**
 * Holds the PSK and derives the version-2 keys from it. There is no long-lived key: version
 * 1's static per-(src, dst) keys are gone (spec §10.4), so nothing here can seal a datagram
 * that a later session would open.
 */
export class PskKeys {
  readonly #psk: Buffer;

  constructor(psk: Uint8Array) {
    checkPsk(psk);
    this.#psk = Buffer.from(psk);
  }

  /** The pre-shared key itself (for the derivations above). */
  get psk(): Buffer {
    return this.#psk;
  }

  handshakeKey(salt: Uint8Array, src: number, dst: number): Buffer {
    return deriveHandshakeKey(this.#psk, salt, src, dst);
  }

  sessionKeys(s: SessionSecrets, side: 'master' | 'remote'): SessionKeys {
    return deriveSessionKeys(this.#psk, s, side);
  }

  groupKey(groupNonce: Uint8Array, masterEpoch: number): Buffer {
    return deriveGroupKey(this.#psk, groupNonce, masterEpoch);
  }
}

/** spec §9.3: the types sealed under a handshake key (with a clear salt). */
export function isHandshakeType(type: number): boolean {
  return type === TYPE_HELLO || type === TYPE_WELCOME || type === TYPE_REJECT;
}

function aead(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, body: Uint8Array, out: Buffer, at: number): void {
  const cipher = createCipheriv(AEAD_ALGORITHM, key, nonce, { authTagLength: TAG_SIZE });
  cipher.setAAD(aad, { plaintextLength: body.byteLength });
  const ct = cipher.update(body);
  cipher.final(); // a stream cipher: final() adds no bytes
  out.set(ct, at);
  out.set(cipher.getAuthTag(), at + ct.byteLength);
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
  aead(key, header.subarray(HDR_NONCE, HDR_NONCE + NONCE_SIZE), header, datagram.subarray(HEADER_SIZE), out, HEADER_SIZE);
  return out;
}

/**
 * spec §9.3: seal a plain HELLO, WELCOME or REJECT under a handshake key. Returns
 * header (SEALED set) || salt (clear) || ciphertext of the body || tag; the AAD is the
 * header and the salt. `salt` defaults to 16 fresh random bytes (tests pass their own).
 */
export function sealHandshake(psk: Uint8Array, datagram: Uint8Array, salt: Uint8Array = randomBytes(HANDSHAKE_SALT_SIZE)): Buffer {
  if (datagram.byteLength < HEADER_SIZE) throw new RangeError('datagram shorter than the header');
  if (!isHandshakeType(datagram[HDR_TYPE] ?? 0)) throw new RangeError('only HELLO, WELCOME and REJECT take a handshake seal');
  const flags = datagram[HDR_FLAGS] ?? 0;
  if ((flags & FLAG_SEALED) !== 0) throw new RangeError('datagram is already sealed');
  const view = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const key = deriveHandshakeKey(psk, salt, view.readUInt16BE(8), view.readUInt16BE(10));
  const out = Buffer.alloc(datagram.byteLength + HANDSHAKE_SALT_SIZE + TAG_SIZE);
  out.set(datagram.subarray(0, HEADER_SIZE), 0);
  out[HDR_FLAGS] = flags | FLAG_SEALED;
  out.set(salt, HEADER_SIZE);
  const aad = out.subarray(0, HEADER_SIZE + HANDSHAKE_SALT_SIZE);
  aead(key, out.subarray(HDR_NONCE, HDR_NONCE + NONCE_SIZE), aad, datagram.subarray(HEADER_SIZE), out, aad.byteLength);
  return out;
}

export type OpenRejectReason = 'short' | 'magic' | 'not-sealed' | 'auth';
export type OpenResult = { ok: true; datagram: Buffer } | { ok: false; reason: OpenRejectReason };

/** True when the datagram's header says SEALED (whatever the rest holds). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.byteLength >= HEADER_SIZE && ((bytes[HDR_FLAGS] ?? 0) & FLAG_SEALED) !== 0;
}

const AUTH: OpenResult = Object.freeze({ ok: false, reason: 'auth' }) as OpenResult;

/**
 * Decrypt `ct` into `out` at `at` and verify the tag. node:crypto reports a bad tag by
 * throwing from final(); the throw (and its stack trace) is most of what a forged datagram
 * costs, so the stack is not captured (spec §13: forged datagrams are cheap to drop).
 */
function unseal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array, out: Buffer, at: number): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const decipher = createDecipheriv(AEAD_ALGORITHM, key, nonce, { authTagLength: TAG_SIZE });
    decipher.setAAD(aad, { plaintextLength: ct.byteLength });
    decipher.setAuthTag(tag);
    const pt = decipher.update(ct);
    decipher.final();
    out.set(pt, at);
    return true;
  } catch {
    // The tag did not verify (or the key has the wrong length).
    return false;
  } finally {
    Error.stackTraceLimit = limit;
  }
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
  const out = Buffer.allocUnsafe(bytes.byteLength - TAG_SIZE);
  const ok = unseal(
    key,
    header.subarray(HDR_NONCE, HDR_NONCE + NONCE_SIZE),
    header,
    bytes.subarray(HEADER_SIZE, bytes.byteLength - TAG_SIZE),
    bytes.subarray(bytes.byteLength - TAG_SIZE),
    out,
    HEADER_SIZE,
  );
  if (!ok) return AUTH;
  out.set(header, 0);
  out[HDR_FLAGS] = (header[HDR_FLAGS] ?? 0) & ~FLAG_SEALED;
  return { ok: true, datagram: out };
}

/**
 * spec §9.3: check and decrypt a sealed HELLO, WELCOME or REJECT. Returns the plain
 * datagram (salt removed, SEALED cleared).
 */
export function openHandshake(psk: Uint8Array, sealed: Uint8Array): OpenResult {
  if (sealed.byteLength < HEADER_SIZE + HANDSHAKE_SALT_SIZE + TAG_SIZE) return { ok: false, reason: 'short' };
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.readUInt32BE(HDR_MAGIC) !== MAGIC) return { ok: false, reason: 'magic' };
  if (!isSealed(bytes)) return { ok: false, reason: 'not-sealed' };
  if (!isHandshakeType(bytes[HDR_TYPE] ?? 0)) return AUTH;
  const aad = bytes.subarray(0, HEADER_SIZE + HANDSHAKE_SALT_SIZE);
  const key = deriveHandshakeKey(psk, bytes.subarray(HEADER_SIZE, HEADER_SIZE + HANDSHAKE_SALT_SIZE), bytes.readUInt16BE(8), bytes.readUInt16BE(10));
  const out = Buffer.allocUnsafe(bytes.byteLength - HANDSHAKE_SALT_SIZE - TAG_SIZE);
  const ok = unseal(
    key,
    bytes.subarray(HDR_NONCE, HDR_NONCE + NONCE_SIZE),
    aad,
    bytes.subarray(aad.byteLength, bytes.byteLength - TAG_SIZE),
    bytes.subarray(bytes.byteLength - TAG_SIZE),
    out,
    HEADER_SIZE,
  );
  if (!ok) return AUTH;
  out.set(bytes.subarray(0, HEADER_SIZE), 0);
  out[HDR_FLAGS] = (bytes[HDR_FLAGS] ?? 0) & ~FLAG_SEALED;
  return { ok: true, datagram: out };
}

/** The session identity a cookie binds (spec §4.2 COOKIE). */
export interface CookieInput {
  clientId: number;
  remoteEpoch: number;
  helloNonce: Uint8Array;
  /** The session address: the HELLO's source address and port. */
  address: string;
  port: number;
}

function addressBytes(address: string): Buffer {
  // IPv4 as IPv4-mapped IPv6, so one address has one form whatever the socket family.
  const a = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  return Buffer.from(isIPv4(a) ? `::ffff:${a}` : a.toLowerCase(), 'ascii');
}

/**
 * The master's cookie generator (RFC 9000 §8.1 address validation, stateless like QUIC's
 * Retry token): cookie = HMAC-SHA256(secret, label || client id || remote epoch || HELLO
 * nonce || address || port), first 16 bytes. The secret is drawn at start and never leaves
 * the process, so a cookie cannot be made without having received the WELCOME.
 */
export class CookieJar {
  readonly #secret: Buffer;

  constructor(secret: Uint8Array = randomBytes(COOKIE_SECRET_SIZE)) {
    if (secret.byteLength < 16) throw new RangeError('a cookie secret needs at least 16 bytes');
    this.#secret = Buffer.from(secret);
  }

  /** The cookie to put in the WELCOME of this session. */
  make(c: CookieInput): Buffer {
    checkNonce(c.helloNonce, 'helloNonce');
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(c.clientId, 0);
    fixed.writeUInt32BE(c.remoteEpoch >>> 0, 2);
    fixed.writeUInt32BE(c.port, 6);
    const mac = createHmac('sha256', this.#secret).update(COOKIE_LABEL).update(fixed).update(c.helloNonce).update(addressBytes(c.address));
    return mac.digest().subarray(0, COOKIE_BYTES);
  }

  /** True when `cookie` (from a HEARTBEAT) is the one made for this session; constant time. */
  check(c: CookieInput, cookie: Uint8Array | null | undefined): boolean {
    if (!cookie || cookie.byteLength !== COOKIE_BYTES) return false;
    return timingSafeEqual(this.make(c), cookie);
  }
}

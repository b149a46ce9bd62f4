/**
 * Joining and leaving (spec/protocol.md §4): HELLO, WELCOME, REJECT, GOODBYE.
 * Each decoder gets a header that readHeader accepted and checks the rest.
 */
import {
  BC_MODE_MULTICAST,
  BC_MODE_NONE,
  BC_MODE_UNICAST,
  FLOW_NONE,
  GOODBYE_REASON,
  GOODBYE_REASONS,
  GOODBYE_SIZE,
  HELLO_BC_SIZE,
  HELLO_MTU,
  HELLO_OPTIONS,
  HELLO_PAGE_SIZE,
  HELLO_RO_NEXT_SEQ,
  HELLO_SEG_SIZE,
  HELLO_VERSION_MAX,
  HELLO_VERSION_MIN,
  HELLO_WORD_SIZE,
  MAX_DATAGRAM,
  MAX_PAGE_SIZE,
  MAX_REMOTES,
  MAX_SEGMENT_SIZE,
  MIN_MTU,
  MIN_PAGE_SIZE,
  COOKIE_BYTES,
  NONCE_BYTES,
  OPT_COOKIE,
  OPT_GROUP_NONCE,
  OPT_HOSTNAME,
  OPT_MULTICAST_GROUP,
  OPT_NONCE,
  OPT_TEXT,
  REJECT_EXPECTED,
  REJECT_OFFERED,
  VERSION_MAX_SUPPORTED,
  VERSION_MIN_SUPPORTED,
  REJECT_OPTIONS,
  REJECT_REASON,
  REJECT_REASONS,
  REJECT_REMOTE_EPOCH,
  TYPE_GOODBYE,
  TYPE_HELLO,
  TYPE_REJECT,
  TYPE_WELCOME,
  VERSION,
  WELCOME_BC_MODE,
  WELCOME_BC_NEXT_SEQ,
  WELCOME_BC_SIZE,
  WELCOME_CLIENT_COUNT,
  WELCOME_HEARTBEAT_MS,
  WELCOME_INTERVAL_MS,
  WELCOME_LIVENESS_MS,
  WELCOME_MO_NEXT_SEQ,
  WELCOME_MTU,
  WELCOME_OPTIONS,
  WELCOME_PAGE_SIZE,
  WELCOME_REMOTE_EPOCH,
  WELCOME_SEG_SIZE,
  WELCOME_VERSION,
  WELCOME_WORD_SIZE,
} from './constants.js';
import { controlRouteOk, envelopeOf, reject, writeHeader, Writer } from './header.js';
import type { Envelope, Header, Rejected } from './header.js';
import { asciiFrom, asciiTo, canonicalOptions, optionsSize, readOptions, takeOption, writeOptions } from './options.js';
import type { RawOption } from './options.js';

export type WordSize = 1 | 2 | 4 | 8;
export type RejectReason = keyof typeof REJECT_REASONS;
export type GoodbyeReason = keyof typeof GOODBYE_REASONS;
export type BcMode = 'none' | 'unicast' | 'multicast';

/** spec §4.1 HELLO: remote -> master, asks to join. */
export interface HelloMessage extends Envelope {
  type: 'hello';
  versionMin: number;
  versionMax: number;
  mtu: number;
  pageSize: number;
  segSize: number;
  /** BC size the remote expects, 0 = whatever the master has. */
  bcSize: number;
  /** First sequence number of the remote's RO flow in this session. */
  roNextSeq: number;
  wordSize: WordSize;
  /** Option HOSTNAME (printable ASCII), or null. */
  hostname: string | null;
  /**
   * Option NONCE (spec §4.5, version 2): 16 fresh random bytes, one per remote epoch, that
   * go into the session keys. REQUIRED when the HELLO offers version 2; decode gives null
   * when absent (a version-1 HELLO), and negotiateVersion() refuses such a v2 offer.
   */
  nonce?: Uint8Array | null;
  /** Options this version does not know, kept for re-encoding. */
  options: RawOption[];
}

/** spec §4.5 MULTICAST_GROUP: 4 (IPv4) or 16 (IPv6) address bytes and a UDP port. */
export interface MulticastGroup {
  port: number;
  address: Uint8Array;
}

/** spec §4.2 WELCOME: master -> remote, the accepted session parameters. */
export interface WelcomeMessage extends Envelope {
  type: 'welcome';
  remoteEpoch: number;
  pageSize: number;
  segSize: number;
  bcSize: number;
  moNextSeq: number;
  bcNextSeq: number;
  intervalMs: number;
  heartbeatMs: number;
  livenessMs: number;
  clientCount: number;
  mtu: number;
  version: number;
  wordSize: WordSize;
  bcMode: BcMode;
  multicast: MulticastGroup | null;
  /** Option NONCE (version 2): the master's fresh 16 bytes for this session's keys; null when absent. */
  nonce?: Uint8Array | null;
  /** Option COOKIE (version 2): 16 bytes the remote echoes in HEARTBEAT (spec §4.2, §6.2); null when absent. */
  cookie?: Uint8Array | null;
  /** Option GROUP_NONCE (version 2, BC Mode 2 only): keys the multicast stream (spec §9.2); null when absent. */
  groupNonce?: Uint8Array | null;
  options: RawOption[];
}

/** spec §4.3 REJECT: master -> remote, why it may not join; `expected` is the master's value. */
export interface RejectMessage extends Envelope {
  type: 'reject';
  remoteEpoch: number;
  expected: number;
  offered: number;
  reason: RejectReason;
  text: string | null;
  options: RawOption[];
}

/** spec §4.4 GOODBYE: either side, leaving. */
export interface GoodbyeMessage extends Envelope {
  type: 'goodbye';
  reason: GoodbyeReason;
}

const BC_MODES: readonly BcMode[] = ['none', 'unicast', 'multicast'];
const BC_MODE_CODES: Record<BcMode, number> = { none: BC_MODE_NONE, unicast: BC_MODE_UNICAST, multicast: BC_MODE_MULTICAST };

export function isWordSize(w: number): w is WordSize {
  return w === 1 || w === 2 || w === 4 || w === 8;
}

/** spec §4.1: page size a power of two in 512..65536. */
export function isPageSize(p: number): boolean {
  return p >= MIN_PAGE_SIZE && p <= MAX_PAGE_SIZE && (p & (p - 1)) === 0;
}

/** spec §4.1: a segment is a whole number of pages, 1 page .. MAX_SEGMENT_SIZE (0 allowed for BC). */
export function isSegmentSize(size: number, pageSize: number, zeroOk: boolean): boolean {
  if (size === 0) return zeroOk;
  return size >= pageSize && size <= MAX_SEGMENT_SIZE && size % pageSize === 0;
}

const isMtu = (m: number): boolean => m >= MIN_MTU && m <= MAX_DATAGRAM;

function reasonName<T extends Record<string, number>>(table: T, code: number): keyof T | null {
  for (const [k, v] of Object.entries(table)) if (v === code) return k as keyof T;
  return null;
}

// spec/protocol.md §4.1 HELLO
export function decodeHello(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: HelloMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  if (h.flow !== FLOW_NONE) return reject('flow');
  if (!controlRouteOk(h.src, h.dst, false, true)) return reject('role');
  if (bytes.byteLength < HELLO_OPTIONS) return reject('short');
  const versionMin = view.getUint8(HELLO_VERSION_MIN);
  const versionMax = view.getUint8(HELLO_VERSION_MAX);
  const mtu = view.getUint16(HELLO_MTU, false);
  const pageSize = view.getUint32(HELLO_PAGE_SIZE, false);
  const segSize = view.getUint32(HELLO_SEG_SIZE, false);
  const bcSize = view.getUint32(HELLO_BC_SIZE, false);
  const wordSize = view.getUint8(HELLO_WORD_SIZE);
  if (versionMin < 1 || versionMin > versionMax || !isMtu(mtu)) return reject('range');
  if (!isWordSize(wordSize)) return reject('enum');
  if (!isPageSize(pageSize) || !isSegmentSize(segSize, pageSize, false) || !isSegmentSize(bcSize, pageSize, true)) {
    return reject('range');
  }
  const opts = readOptions(bytes, HELLO_OPTIONS);
  if (!opts.ok) return opts;
  const raw = takeOption(opts.options, OPT_HOSTNAME);
  const hostname = raw === null ? null : asciiFrom(raw, 0x21);
  if (raw !== null && hostname === null) return reject('option');
  const nonce = takeOption(opts.options, OPT_NONCE);
  if (nonce !== null && nonce.byteLength !== NONCE_BYTES) return reject('option');
  return {
    ok: true,
    msg: {
      type: 'hello',
      ...envelopeOf(h),
      versionMin,
      versionMax,
      mtu,
      pageSize,
      segSize,
      bcSize,
      roNextSeq: view.getUint32(HELLO_RO_NEXT_SEQ, false),
      wordSize,
      hostname,
      nonce,
      options: opts.options,
    },
  };
}

/** REJECT version's Expected and Offered fields: (min << 8) | max (spec §4.3). */
export function versionRange(min: number, max: number): number {
  return ((min & 0xff) << 8) | (max & 0xff);
}

export type VersionChoice =
  { ok: true; version: number } | { ok: false; reject: { reason: 'version'; expected: number; offered: number; text: string } } | { ok: false; drop: 'option' };

/**
 * spec §10.4, for the master: the session version for this HELLO, or the REJECT `version`
 * to answer (Expected = this master's range, Offered = the HELLO's, each (min << 8) | max),
 * or a drop when the HELLO offers version 2 without the NONCE that version requires.
 */
export function negotiateVersion(
  h: Pick<HelloMessage, 'versionMin' | 'versionMax' | 'nonce'>,
  ours: { min: number; max: number } = { min: VERSION_MIN_SUPPORTED, max: VERSION_MAX_SUPPORTED },
): VersionChoice {
  const version = Math.min(h.versionMax, ours.max);
  if (version < h.versionMin || version < ours.min) {
    return {
      ok: false,
      reject: {
        reason: 'version',
        expected: versionRange(ours.min, ours.max),
        offered: versionRange(h.versionMin, h.versionMax),
        text: `this master speaks protocol versions ${ours.min}..${ours.max}, the remote ${h.versionMin}..${h.versionMax}`,
      },
    };
  }
  if (version >= 2 && (h.nonce === null || h.nonce === undefined)) return { ok: false, drop: 'option' };
  return { ok: true, version };
}

function fixedOption(type: number, value: Uint8Array | null | undefined, size: number, name: string): RawOption[] {
  if (value === null || value === undefined) return [];
  if (value.byteLength !== size) throw new RangeError(`${name} must be ${size} bytes, got ${value.byteLength}`);
  return [{ type, value }];
}

export function encodeHello(m: HelloMessage): Buffer {
  const known: RawOption[] = m.hostname === null ? [] : [{ type: OPT_HOSTNAME, value: asciiTo(m.hostname, 0x21, 'hostname') }];
  known.push(...fixedOption(OPT_NONCE, m.nonce, NONCE_BYTES, 'nonce'));
  const options = canonicalOptions(known, m.options);
  const w = new Writer(HELLO_OPTIONS + optionsSize(options));
  writeHeader(w, TYPE_HELLO, 0, FLOW_NONE, m);
  w.u8(HELLO_VERSION_MIN, m.versionMin, 'versionMin');
  w.u8(HELLO_VERSION_MAX, m.versionMax, 'versionMax');
  w.u16(HELLO_MTU, m.mtu, 'mtu');
  w.u32(HELLO_PAGE_SIZE, m.pageSize, 'pageSize');
  w.u32(HELLO_SEG_SIZE, m.segSize, 'segSize');
  w.u32(HELLO_BC_SIZE, m.bcSize, 'bcSize');
  w.u32(HELLO_RO_NEXT_SEQ, m.roNextSeq, 'roNextSeq');
  w.u8(HELLO_WORD_SIZE, m.wordSize, 'wordSize');
  writeOptions(w.buf, HELLO_OPTIONS, options);
  return w.buf;
}

/** spec §4.5: IPv4 224.0.0.0/4 or IPv6 ff00::/8. */
function isMulticastAddress(a: Uint8Array): boolean {
  const first = a[0] ?? 0;
  return a.byteLength === 4 ? (first & 0xf0) === 0xe0 : a.byteLength === 16 && first === 0xff;
}

// spec/protocol.md §4.2 WELCOME
export function decodeWelcome(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: WelcomeMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  if (h.flow !== FLOW_NONE) return reject('flow');
  if (!controlRouteOk(h.src, h.dst, true, false)) return reject('role');
  if (bytes.byteLength < WELCOME_OPTIONS) return reject('short');
  const version = view.getUint8(WELCOME_VERSION);
  if (version !== VERSION) return reject('version');
  const wordSize = view.getUint8(WELCOME_WORD_SIZE);
  const bcMode = BC_MODES[view.getUint8(WELCOME_BC_MODE)];
  if (!isWordSize(wordSize) || bcMode === undefined) return reject('enum');
  const m = {
    remoteEpoch: view.getUint32(WELCOME_REMOTE_EPOCH, false),
    pageSize: view.getUint32(WELCOME_PAGE_SIZE, false),
    segSize: view.getUint32(WELCOME_SEG_SIZE, false),
    bcSize: view.getUint32(WELCOME_BC_SIZE, false),
    moNextSeq: view.getUint32(WELCOME_MO_NEXT_SEQ, false),
    bcNextSeq: view.getUint32(WELCOME_BC_NEXT_SEQ, false),
    intervalMs: view.getUint32(WELCOME_INTERVAL_MS, false),
    heartbeatMs: view.getUint32(WELCOME_HEARTBEAT_MS, false),
    livenessMs: view.getUint32(WELCOME_LIVENESS_MS, false),
    clientCount: view.getUint16(WELCOME_CLIENT_COUNT, false),
    mtu: view.getUint16(WELCOME_MTU, false),
  };
  if (m.remoteEpoch === 0 || !isMtu(m.mtu) || !isPageSize(m.pageSize)) return reject('range');
  if (m.clientCount < 1 || m.clientCount > MAX_REMOTES || h.dst >= m.clientCount) return reject('range');
  if (m.intervalMs === 0 || m.heartbeatMs === 0 || m.livenessMs < m.heartbeatMs) return reject('range');
  if (!isSegmentSize(m.segSize, m.pageSize, false) || !isSegmentSize(m.bcSize, m.pageSize, true)) return reject('range');
  if ((bcMode === 'none') !== (m.bcSize === 0)) return reject('range');
  const opts = readOptions(bytes, WELCOME_OPTIONS);
  if (!opts.ok) return opts;
  const raw = takeOption(opts.options, OPT_MULTICAST_GROUP);
  let multicast: MulticastGroup | null = null;
  if (raw !== null) {
    if (raw.byteLength !== 6 && raw.byteLength !== 18) return reject('option');
    const port = ((raw[0] ?? 0) << 8) | (raw[1] ?? 0); // big-endian u16
    multicast = { port, address: raw.subarray(2) };
    if (port === 0 || !isMulticastAddress(multicast.address)) return reject('option');
  }
  if ((bcMode === 'multicast') !== (multicast !== null)) return reject('option');
  const nonce = takeOption(opts.options, OPT_NONCE);
  const cookie = takeOption(opts.options, OPT_COOKIE);
  const groupNonce = takeOption(opts.options, OPT_GROUP_NONCE);
  if (nonce !== null && nonce.byteLength !== NONCE_BYTES) return reject('option');
  if (cookie !== null && cookie.byteLength !== COOKIE_BYTES) return reject('option');
  if (groupNonce !== null && (groupNonce.byteLength !== NONCE_BYTES || bcMode !== 'multicast')) return reject('option');
  return {
    ok: true,
    msg: {
      type: 'welcome',
      ...envelopeOf(h),
      ...m,
      version,
      wordSize,
      bcMode,
      multicast,
      nonce,
      cookie,
      groupNonce,
      options: opts.options,
    },
  };
}

export function encodeWelcome(m: WelcomeMessage): Buffer {
  const known: RawOption[] = [];
  if (m.multicast !== null) {
    const value = new Uint8Array(2 + m.multicast.address.byteLength);
    value[0] = (m.multicast.port >>> 8) & 0xff; // big-endian u16
    value[1] = m.multicast.port & 0xff;
    value.set(m.multicast.address, 2);
    known.push({ type: OPT_MULTICAST_GROUP, value });
  }
  known.push(...fixedOption(OPT_NONCE, m.nonce, NONCE_BYTES, 'nonce'));
  known.push(...fixedOption(OPT_COOKIE, m.cookie, COOKIE_BYTES, 'cookie'));
  known.push(...fixedOption(OPT_GROUP_NONCE, m.groupNonce, NONCE_BYTES, 'groupNonce'));
  const options = canonicalOptions(known, m.options);
  const w = new Writer(WELCOME_OPTIONS + optionsSize(options));
  writeHeader(w, TYPE_WELCOME, 0, FLOW_NONE, m);
  w.u32(WELCOME_REMOTE_EPOCH, m.remoteEpoch, 'remoteEpoch');
  w.u32(WELCOME_PAGE_SIZE, m.pageSize, 'pageSize');
  w.u32(WELCOME_SEG_SIZE, m.segSize, 'segSize');
  w.u32(WELCOME_BC_SIZE, m.bcSize, 'bcSize');
  w.u32(WELCOME_MO_NEXT_SEQ, m.moNextSeq, 'moNextSeq');
  w.u32(WELCOME_BC_NEXT_SEQ, m.bcNextSeq, 'bcNextSeq');
  w.u32(WELCOME_INTERVAL_MS, m.intervalMs, 'intervalMs');
  w.u32(WELCOME_HEARTBEAT_MS, m.heartbeatMs, 'heartbeatMs');
  w.u32(WELCOME_LIVENESS_MS, m.livenessMs, 'livenessMs');
  w.u16(WELCOME_CLIENT_COUNT, m.clientCount, 'clientCount');
  w.u16(WELCOME_MTU, m.mtu, 'mtu');
  w.u8(WELCOME_VERSION, m.version, 'version');
  w.u8(WELCOME_WORD_SIZE, m.wordSize, 'wordSize');
  w.u8(WELCOME_BC_MODE, BC_MODE_CODES[m.bcMode], 'bcMode');
  writeOptions(w.buf, WELCOME_OPTIONS, options);
  return w.buf;
}

// spec/protocol.md §4.3 REJECT
export function decodeReject(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: RejectMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  if (h.flow !== FLOW_NONE) return reject('flow');
  if (!controlRouteOk(h.src, h.dst, true, false)) return reject('role');
  if (bytes.byteLength < REJECT_OPTIONS) return reject('short');
  const reason = reasonName(REJECT_REASONS, view.getUint16(REJECT_REASON, false));
  if (reason === null) return reject('enum');
  const opts = readOptions(bytes, REJECT_OPTIONS);
  if (!opts.ok) return opts;
  const raw = takeOption(opts.options, OPT_TEXT);
  const text = raw === null ? null : asciiFrom(raw, 0x20);
  if (raw !== null && text === null) return reject('option');
  return {
    ok: true,
    msg: {
      type: 'reject',
      ...envelopeOf(h),
      remoteEpoch: view.getUint32(REJECT_REMOTE_EPOCH, false),
      expected: view.getUint32(REJECT_EXPECTED, false),
      offered: view.getUint32(REJECT_OFFERED, false),
      reason,
      text,
      options: opts.options,
    },
  };
}

export function encodeReject(m: RejectMessage): Buffer {
  const known: RawOption[] = m.text === null ? [] : [{ type: OPT_TEXT, value: asciiTo(m.text, 0x20, 'text') }];
  const options = canonicalOptions(known, m.options);
  const w = new Writer(REJECT_OPTIONS + optionsSize(options));
  writeHeader(w, TYPE_REJECT, 0, FLOW_NONE, m);
  w.u32(REJECT_REMOTE_EPOCH, m.remoteEpoch, 'remoteEpoch');
  w.u32(REJECT_EXPECTED, m.expected, 'expected');
  w.u32(REJECT_OFFERED, m.offered, 'offered');
  w.u16(REJECT_REASON, REJECT_REASONS[m.reason], 'reason');
  writeOptions(w.buf, REJECT_OPTIONS, options);
  return w.buf;
}

// spec/protocol.md §4.4 GOODBYE
export function decodeGoodbye(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: GoodbyeMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  if (h.flow !== FLOW_NONE) return reject('flow');
  if (!controlRouteOk(h.src, h.dst, true, true)) return reject('role');
  if (bytes.byteLength < GOODBYE_SIZE) return reject('short');
  if (bytes.byteLength !== GOODBYE_SIZE) return reject('length');
  const reason = reasonName(GOODBYE_REASONS, view.getUint16(GOODBYE_REASON, false));
  if (reason === null) return reject('enum');
  return { ok: true, msg: { type: 'goodbye', ...envelopeOf(h), reason } };
}

export function encodeGoodbye(m: GoodbyeMessage): Buffer {
  const w = new Writer(GOODBYE_SIZE);
  writeHeader(w, TYPE_GOODBYE, 0, FLOW_NONE, m);
  w.u16(GOODBYE_REASON, GOODBYE_REASONS[m.reason], 'reason');
  return w.buf;
}

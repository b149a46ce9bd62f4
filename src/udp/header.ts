/**
 * The common header of every datagram (spec/protocol.md §3), the decode result type, and
 * the bounds-checked big-endian writers the message encoders share.
 *
 * Decoding never throws on wire bytes and never reads past the datagram: each decoder
 * checks the datagram length before a DataView read, and rejects with a stable reason.
 * Encoding throws a RangeError for a field that does not fit its width (a programming
 * error, never a wire condition).
 */
import {
  FLAG_SEALED,
  FLOW_BC,
  FLOW_MO,
  FLOW_RO,
  HDR_DST,
  HDR_EPOCH,
  HDR_FLAGS,
  HDR_FLOW,
  HDR_MAGIC,
  HDR_PACKET_NUMBER,
  HDR_SRC,
  HDR_TYPE,
  HDR_VERSION,
  HEADER_SIZE,
  HANDSHAKE_HEADER_VERSION,
  MAGIC,
  MAX_REMOTES,
  NODE_ALL,
  NODE_MASTER,
  TYPE_HELLO,
  TYPE_REJECT,
  TYPE_WELCOME,
  VERSION,
  COMMIT_SIZE,
  DATA_PAYLOAD,
  DIGEST_HASH_SIZE,
  DIGEST_HASHES,
  GOODBYE_SIZE,
  HEARTBEAT_COOKIE_SIZE,
  HEARTBEAT_FLOW_SIZE,
  HEARTBEAT_FLOWS,
  HELLO_OPTIONS,
  MAX_NACK_RANGES,
  NACK_RANGE_SIZE,
  NACK_RANGES,
  REJECT_OPTIONS,
  RESYNC_SIZE,
  TYPE_COMMIT,
  TYPE_DATA,
  TYPE_DIGEST,
  TYPE_GOODBYE,
  TYPE_HEARTBEAT,
  TYPE_NACK,
  TYPE_RESYNC,
  WELCOME_OPTIONS,
} from './constants.js';

/** spec §3.1: an assigned message type. */
export function isKnownType(type: number): boolean {
  return (type >= TYPE_HELLO && type <= TYPE_HEARTBEAT) || (type >= TYPE_DATA && type <= TYPE_RESYNC);
}

/**
 * spec §10.4: the header Version a datagram of `type` carries. HELLO, WELCOME and REJECT
 * keep Version 1 in every protocol version (so nodes of different versions can always
 * handshake); every other type carries the session's version, 2.
 */
export function headerVersion(type: number): number {
  return type === TYPE_HELLO || type === TYPE_WELCOME || type === TYPE_REJECT ? HANDSHAKE_HEADER_VERSION : VERSION;
}

/** Why a datagram was rejected: a stable set of strings for counters and tests (spec §10.2). */
export const DECODE_REJECT_REASONS = [
  'short', // shorter than the header or than its type's fixed part
  'magic', // not a PDSM datagram
  'version', // a protocol version this decoder does not speak
  'type', // unknown message type
  'sealed', // SEALED flag set: open() it first
  'flags', // a flag bit that is not defined for this type
  'flow', // flow field not allowed for this type
  'role', // source/destination not allowed for this type and flow
  'length', // datagram length disagrees with what its fields say
  'count', // a count field out of its allowed range
  'enum', // an enumerated field holds an undefined value
  'range', // a numeric field outside its allowed range
  'option', // a malformed, duplicate or out-of-order option
] as const;
export type DecodeRejectReason = (typeof DECODE_REJECT_REASONS)[number];

export type Rejected = { ok: false; reason: DecodeRejectReason };
export const reject = (reason: DecodeRejectReason): Rejected => ({ ok: false, reason });

/** The flows of spec §3.3. */
export type FlowName = 'mo' | 'ro' | 'bc';
export const FLOW_CODES: Record<FlowName, number> = { mo: FLOW_MO, ro: FLOW_RO, bc: FLOW_BC };
export function flowName(code: number): FlowName | null {
  return code === FLOW_MO ? 'mo' : code === FLOW_RO ? 'ro' : code === FLOW_BC ? 'bc' : null;
}

/** Header fields every typed message carries (spec §3). */
export interface Envelope {
  /** Sender: a client id 0..MAX_REMOTES-1 (16383), or NODE_MASTER (0xffff). */
  src: number;
  /** Destination: a client id, NODE_MASTER, or NODE_ALL (0xfffe, multicast BC only). */
  dst: number;
  /** The sender's epoch (spec §7.1). */
  epoch: number;
  /** The sender's packet number for this destination key, 0 .. 2**48-1 (spec §3, §9.3). */
  packetNumber: number;
}

/** The raw common header, as read by readHeader. */
export interface Header extends Envelope {
  version: number;
  type: number;
  flags: number;
  flow: number;
}

export function isRemoteId(id: number): boolean {
  return id < MAX_REMOTES;
}

/**
 * spec §3 Common header: read and check the fixed fields (magic, version for the type, packet number).
 * Type, flags, flow and route are checked by the type's decoder.
 */
export function readHeader(bytes: Uint8Array): { ok: true; header: Header; view: DataView } | Rejected {
  if (bytes.byteLength < HEADER_SIZE) return reject('short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(HDR_MAGIC, false) !== MAGIC) return reject('magic');
  const version = view.getUint8(HDR_VERSION);
  const type = view.getUint8(HDR_TYPE);
  // spec §10.4: Version 1 for HELLO, WELCOME, REJECT, 2 for the rest; an unknown type is the decoder's 'type'.
  if (version !== HANDSHAKE_HEADER_VERSION && version !== VERSION) return reject('version');
  if (isKnownType(type) && version !== headerVersion(type)) return reject('version');
  const flags = view.getUint8(HDR_FLAGS);
  if ((flags & FLAG_SEALED) !== 0) return reject('sealed');
  // packet_number is a u64 whose top 16 bits MUST be zero (spec §3).
  if (view.getUint16(HDR_PACKET_NUMBER, false) !== 0) return reject('range');
  // Epoch 0 is reserved for "no epoch known" (spec §7.1).
  if (view.getUint32(HDR_EPOCH, false) === 0) return reject('range');
  const packetNumber = view.getUint16(HDR_PACKET_NUMBER + 2, false) * 0x1_0000_0000 + view.getUint32(HDR_PACKET_NUMBER + 4, false);
  return {
    ok: true,
    view,
    header: {
      version,
      type: view.getUint8(HDR_TYPE),
      flags,
      flow: view.getUint8(HDR_FLOW),
      src: view.getUint16(HDR_SRC, false),
      dst: view.getUint16(HDR_DST, false),
      epoch: view.getUint32(HDR_EPOCH, false),
      packetNumber,
    },
  };
}

/**
 * The sender side of a route check (spec §3.4): who may send this type on this flow.
 * `fromFlowSender` is true for DATA, COMMIT, DIGEST (sent by the flow's sender) and false for
 * NACK, RESYNC (sent by the flow's receiver back to the sender).
 */
export function flowRouteOk(flow: number, src: number, dst: number, fromFlowSender: boolean): boolean {
  const masterToRemote = src === NODE_MASTER && isRemoteId(dst);
  const remoteToMaster = isRemoteId(src) && dst === NODE_MASTER;
  switch (flow) {
    case FLOW_MO:
      return fromFlowSender ? masterToRemote : remoteToMaster;
    case FLOW_RO:
      return fromFlowSender ? remoteToMaster : masterToRemote;
    case FLOW_BC:
      return fromFlowSender ? masterToRemote || (src === NODE_MASTER && dst === NODE_ALL) : remoteToMaster;
    default:
      return false;
  }
}

/** Control messages (no flow) go between the master and one remote, either way (spec §3.4). */
export function controlRouteOk(src: number, dst: number, masterSends: boolean, remoteSends: boolean): boolean {
  if (masterSends && src === NODE_MASTER && isRemoteId(dst)) return true;
  return remoteSends && isRemoteId(src) && dst === NODE_MASTER;
}

/** Bounds-checked big-endian writes into a fresh buffer. */
export class Writer {
  readonly buf: Buffer;
  readonly view: DataView;

  /**
   * `zeroed` false: a buffer from Node's pool, not cleared, for an encoder that writes every
   * byte (DATA: a fresh zeroed ArrayBuffer per datagram was 6% of a sending daemon's CPU
   * during a big resync, plus the garbage collection of each).
   */
  constructor(size: number, zeroed = true) {
    this.buf = zeroed ? Buffer.alloc(size) : Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  u8(offset: number, value: number, name: string): void {
    this.view.setUint8(offset, checkInt(value, 0xff, name));
  }

  u16(offset: number, value: number, name: string): void {
    this.view.setUint16(offset, checkInt(value, 0xffff, name), false); // big-endian
  }

  u32(offset: number, value: number, name: string): void {
    this.view.setUint32(offset, checkInt(value, 0xffff_ffff, name), false); // big-endian
  }

  u64(offset: number, value: bigint, name: string): void {
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new RangeError(`${name} does not fit in u64: ${value}`);
    this.view.setBigUint64(offset, value, false); // big-endian
  }

  bytes(offset: number, value: Uint8Array): void {
    this.buf.set(value, offset);
  }
}

function checkInt(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer 0..${max}, got ${value}`);
  }
  return value;
}

/** spec §3 Common header: write it at offset 0 of `w`. */
export function writeHeader(w: Writer, type: number, flags: number, flow: number, env: Envelope): void {
  w.u32(HDR_MAGIC, MAGIC, 'magic');
  w.u8(HDR_VERSION, headerVersion(type), 'version');
  w.u8(HDR_TYPE, type, 'type');
  w.u8(HDR_FLAGS, flags, 'flags');
  w.u8(HDR_FLOW, flow, 'flow');
  w.u16(HDR_SRC, env.src, 'src');
  w.u16(HDR_DST, env.dst, 'dst');
  w.u32(HDR_EPOCH, env.epoch, 'epoch');
  const pn = checkInt(env.packetNumber, 2 ** 48 - 1, 'packetNumber');
  w.u16(HDR_PACKET_NUMBER, 0, 'packetNumber');
  w.u16(HDR_PACKET_NUMBER + 2, Math.floor(pn / 0x1_0000_0000), 'packetNumber');
  w.u32(HDR_PACKET_NUMBER + 4, pn % 0x1_0000_0000, 'packetNumber');
}

/**
 * spec §4-§6: can a plain datagram of `type` have `length` bytes? A cheap check on the
 * header alone, so a receiver can drop a sealed datagram of an impossible size before the
 * AEAD (spec §9.3). The decoder checks the exact rules afterwards.
 */
export function plainLengthPossible(type: number, length: number): boolean {
  switch (type) {
    case TYPE_HELLO:
      return length >= HELLO_OPTIONS;
    case TYPE_WELCOME:
      return length >= WELCOME_OPTIONS;
    case TYPE_REJECT:
      return length >= REJECT_OPTIONS;
    case TYPE_GOODBYE:
      return length === GOODBYE_SIZE;
    case TYPE_HEARTBEAT:
      return length >= HEARTBEAT_FLOWS && length <= HEARTBEAT_FLOWS + 2 * HEARTBEAT_FLOW_SIZE + HEARTBEAT_COOKIE_SIZE;
    case TYPE_DATA:
      return length > DATA_PAYLOAD;
    case TYPE_COMMIT:
      return length === COMMIT_SIZE;
    case TYPE_NACK:
      return (
        length >= NACK_RANGES + NACK_RANGE_SIZE && length <= NACK_RANGES + MAX_NACK_RANGES * NACK_RANGE_SIZE && (length - NACK_RANGES) % NACK_RANGE_SIZE === 0
      );
    case TYPE_DIGEST:
      return length >= DIGEST_HASHES + DIGEST_HASH_SIZE && (length - DIGEST_HASHES) % DIGEST_HASH_SIZE === 0;
    case TYPE_RESYNC:
      return length === RESYNC_SIZE;
    default:
      return false;
  }
}

/** The Envelope part of a header, for typed messages. */
export function envelopeOf(h: Header): Envelope {
  return { src: h.src, dst: h.dst, epoch: h.epoch, packetNumber: h.packetNumber };
}

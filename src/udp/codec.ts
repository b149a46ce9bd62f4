/**
 * The datagram codec of spec/protocol.md: one discriminated union of typed messages,
 * `encode` and `decode`. This is the module the reliability layer imports.
 *
 * decode() never throws on wire bytes, never reads outside them, and accepts only the
 * canonical encoding: whatever it accepts, encode() turns back into the same bytes
 * (spec §10.1). DATA payloads and option values are subarrays of the input, not copies;
 * keep the input alive (and unchanged) while using them.
 *
 * encode() throws a RangeError for a message that a peer would reject (it decodes what it
 * built and refuses to return bytes that do not decode to an accepted datagram).
 */
import {
  TYPE_COMMIT,
  TYPE_DATA,
  TYPE_DIGEST,
  TYPE_GOODBYE,
  TYPE_HEARTBEAT,
  TYPE_HELLO,
  TYPE_NACK,
  TYPE_REJECT,
  TYPE_RESYNC,
  TYPE_WELCOME,
} from './constants.js';
import { decodeDigest, decodeHeartbeat, decodeNack, decodeResync, encodeDigest, encodeHeartbeat, encodeNack, encodeResync } from './control.js';
import type { DigestMessage, HeartbeatMessage, NackMessage, ResyncMessage } from './control.js';
import { decodeCommit, decodeData, encodeCommit, encodeData } from './data.js';
import type { CommitMessage, DataMessage } from './data.js';
import { readHeader, reject } from './header.js';
import type { DecodeRejectReason } from './header.js';
import { decodeGoodbye, decodeHello, decodeReject, decodeWelcome, encodeGoodbye, encodeHello, encodeReject, encodeWelcome } from './join.js';
import type { GoodbyeMessage, HelloMessage, RejectMessage, WelcomeMessage } from './join.js';

export type Message =
  HelloMessage | WelcomeMessage | RejectMessage | GoodbyeMessage | HeartbeatMessage | DataMessage | CommitMessage | NackMessage | DigestMessage | ResyncMessage;

export type MessageType = Message['type'];

export type DecodeResult = { ok: true; msg: Message } | { ok: false; reason: DecodeRejectReason };

/** spec §3.1 type codes by message type name. */
export const TYPE_CODES: Record<MessageType, number> = {
  hello: TYPE_HELLO,
  welcome: TYPE_WELCOME,
  reject: TYPE_REJECT,
  goodbye: TYPE_GOODBYE,
  heartbeat: TYPE_HEARTBEAT,
  data: TYPE_DATA,
  commit: TYPE_COMMIT,
  nack: TYPE_NACK,
  digest: TYPE_DIGEST,
  resync: TYPE_RESYNC,
};

/** Decode one plain (not sealed, or already opened) datagram. */
export function decode(bytes: Uint8Array): DecodeResult {
  const r = readHeader(bytes);
  if (!r.ok) return r;
  const { header: h, view } = r;
  switch (h.type) {
    case TYPE_HELLO:
      return decodeHello(h, view, bytes);
    case TYPE_WELCOME:
      return decodeWelcome(h, view, bytes);
    case TYPE_REJECT:
      return decodeReject(h, view, bytes);
    case TYPE_GOODBYE:
      return decodeGoodbye(h, view, bytes);
    case TYPE_HEARTBEAT:
      return decodeHeartbeat(h, view, bytes);
    case TYPE_DATA:
      return decodeData(h, view, bytes);
    case TYPE_COMMIT:
      return decodeCommit(h, view, bytes);
    case TYPE_NACK:
      return decodeNack(h, view, bytes);
    case TYPE_DIGEST:
      return decodeDigest(h, view, bytes);
    case TYPE_RESYNC:
      return decodeResync(h, view, bytes);
    default:
      return reject('type');
  }
}

/** Encode without the self-check; for callers that build many DATA of known-good shape. */
export function encodeUnchecked(msg: Message): Buffer {
  switch (msg.type) {
    case 'hello':
      return encodeHello(msg);
    case 'welcome':
      return encodeWelcome(msg);
    case 'reject':
      return encodeReject(msg);
    case 'goodbye':
      return encodeGoodbye(msg);
    case 'heartbeat':
      return encodeHeartbeat(msg);
    case 'data':
      return encodeData(msg);
    case 'commit':
      return encodeCommit(msg);
    case 'nack':
      return encodeNack(msg);
    case 'digest':
      return encodeDigest(msg);
    case 'resync':
      return encodeResync(msg);
  }
}

/** Encode a message into a new Buffer (plain; seal() it when a PSK is configured). */
export function encode(msg: Message): Buffer {
  const bytes = encodeUnchecked(msg);
  const back = decode(bytes);
  if (!back.ok) throw new RangeError(`${msg.type} message would be rejected by a peer: ${back.reason}`);
  return bytes;
}

// The rest of the codec's surface, so the reliability layer needs one import.
export type { DecodeRejectReason, Envelope, FlowName } from './header.js';
export { DECODE_REJECT_REASONS } from './header.js';
export type { RawOption } from './options.js';
export type { BcMode, GoodbyeMessage, GoodbyeReason, HelloMessage, MulticastGroup, RejectMessage, RejectReason, WelcomeMessage, WordSize } from './join.js';
export { isPageSize, isSegmentSize, isWordSize } from './join.js';
export type { CommitMessage, DataMessage, SegmentGeometry } from './data.js';
export { checkDataAgainstSegment, checkPagesAgainstSegment, maxDataPayload } from './data.js';
export type { DigestMessage, HeartbeatFlow, HeartbeatMessage, NackMessage, ResyncMessage, SeqRange } from './control.js';

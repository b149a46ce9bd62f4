/**
 * Feedback and liveness (spec/protocol.md §6): NACK, HEARTBEAT, DIGEST, RESYNC.
 */
import {
  DIGEST_BATCH_ID,
  DIGEST_FIRST_PAGE,
  DIGEST_HASH_COUNT,
  DIGEST_HASH_SIZE,
  DIGEST_HASHES,
  FLAG_HEARTBEAT_COOKIE,
  FLAG_HEARTBEAT_ECHO,
  HEARTBEAT_COOKIE_SIZE,
  FLAG_HEARTBEAT_WANT_BC_UNICAST,
  FLAG_RESYNC_FULL,
  FLOW_NONE,
  FLOW_RO,
  HEARTBEAT_ECHO_DELAY,
  HEARTBEAT_ECHO_TIMESTAMP,
  HEARTBEAT_FLOW_COUNT,
  HEARTBEAT_FLOW_SIZE,
  HEARTBEAT_FLOWS,
  HEARTBEAT_TIMESTAMP,
  MAX_NACK_RANGES,
  MAX_SEQ_SPAN,
  NACK_RANGE_COUNT,
  NACK_RANGE_SIZE,
  NACK_RANGES,
  NODE_MASTER,
  RESYNC_FIRST_PAGE,
  RESYNC_PAGE_COUNT,
  RESYNC_SIZE,
  TYPE_DIGEST,
  TYPE_HEARTBEAT,
  TYPE_NACK,
  TYPE_RESYNC,
} from './constants.js';
import { controlRouteOk, envelopeOf, FLOW_CODES, flowName, flowRouteOk, reject, writeHeader, Writer } from './header.js';
import type { Envelope, FlowName, Header, Rejected } from './header.js';

/** A run of `count` sequence numbers from `first` (serial arithmetic, may wrap). */
export interface SeqRange {
  first: number;
  count: number;
}

/** spec §6.1 NACK: the flow's receiver asks its sender for these sequence numbers again. */
export interface NackMessage extends Envelope {
  type: 'nack';
  flow: FlowName;
  ranges: SeqRange[];
}

/** spec §6.2 the highest sequence number sent on one flow. */
export interface HeartbeatFlow {
  flow: FlowName;
  highestSeq: number;
}

/** spec §6.2 HEARTBEAT: liveness, RTT echo and the highest sequence number per flow. */
export interface HeartbeatMessage extends Envelope {
  type: 'heartbeat';
  /** Sender's monotonic clock in microseconds, modulo 2**32. */
  timestamp: number;
  /** The peer's last timestamp and how long (us) it was held before this reply, or null. */
  echo: { timestamp: number; delay: number } | null;
  /** Remote only: multicast BC is not arriving, send BC by unicast (spec §8.4). */
  wantBcUnicast: boolean;
  flows: HeartbeatFlow[];
  /**
   * Remote only (version 2): the COOKIE of the session's WELCOME, echoed so the master knows
   * the remote receives at the session address (spec §6.2, §13); null or absent: not sent.
   */
  cookie?: Uint8Array | null;
}

/** spec §6.3 DIGEST: XXH64 of pages firstPage.. as they stand after batch `batchId`. */
export interface DigestMessage extends Envelope {
  type: 'digest';
  flow: FlowName;
  batchId: number;
  firstPage: number;
  hashes: BigUint64Array;
}

/** spec §6.4 RESYNC: send these pages (or all of them) again as a new batch. */
export interface ResyncMessage extends Envelope {
  type: 'resync';
  flow: FlowName;
  full: boolean;
  firstPage: number;
  pageCount: number;
}

// spec/protocol.md §6.1 NACK
export function decodeNack(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: NackMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  const flow = flowName(h.flow);
  if (flow === null) return reject('flow');
  if (!flowRouteOk(h.flow, h.src, h.dst, false)) return reject('role');
  if (bytes.byteLength < NACK_RANGES) return reject('short');
  const n = view.getUint16(NACK_RANGE_COUNT, false);
  if (n < 1 || n > MAX_NACK_RANGES) return reject('count');
  if (bytes.byteLength !== NACK_RANGES + n * NACK_RANGE_SIZE) return reject('length');
  const ranges: SeqRange[] = [];
  for (let i = 0; i < n; i++) {
    const at = NACK_RANGES + i * NACK_RANGE_SIZE;
    const count = view.getUint32(at + 4, false);
    if (count < 1 || count > MAX_SEQ_SPAN) return reject('range');
    ranges.push({ first: view.getUint32(at, false), count });
  }
  return { ok: true, msg: { type: 'nack', ...envelopeOf(h), flow, ranges } };
}

export function encodeNack(m: NackMessage): Buffer {
  const w = new Writer(NACK_RANGES + m.ranges.length * NACK_RANGE_SIZE);
  writeHeader(w, TYPE_NACK, 0, FLOW_CODES[m.flow], m);
  w.u16(NACK_RANGE_COUNT, m.ranges.length, 'range count');
  m.ranges.forEach((r, i) => {
    w.u32(NACK_RANGES + i * NACK_RANGE_SIZE, r.first, 'range first');
    w.u32(NACK_RANGES + i * NACK_RANGE_SIZE + 4, r.count, 'range count');
  });
  return w.buf;
}

// spec/protocol.md §6.2 HEARTBEAT
export function decodeHeartbeat(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: HeartbeatMessage } | Rejected {
  if ((h.flags & ~(FLAG_HEARTBEAT_ECHO | FLAG_HEARTBEAT_WANT_BC_UNICAST | FLAG_HEARTBEAT_COOKIE)) !== 0) return reject('flags');
  if (h.flow !== FLOW_NONE) return reject('flow');
  if (!controlRouteOk(h.src, h.dst, true, true)) return reject('role');
  const fromMaster = h.src === NODE_MASTER;
  if (fromMaster && (h.flags & (FLAG_HEARTBEAT_WANT_BC_UNICAST | FLAG_HEARTBEAT_COOKIE)) !== 0) return reject('flags');
  if (bytes.byteLength < HEARTBEAT_FLOWS) return reject('short');
  const n = view.getUint8(HEARTBEAT_FLOW_COUNT);
  if (n > 2) return reject('count');
  const hasCookie = (h.flags & FLAG_HEARTBEAT_COOKIE) !== 0;
  const cookieAt = HEARTBEAT_FLOWS + n * HEARTBEAT_FLOW_SIZE;
  if (bytes.byteLength !== cookieAt + (hasCookie ? HEARTBEAT_COOKIE_SIZE : 0)) return reject('length');
  const echoTimestamp = view.getUint32(HEARTBEAT_ECHO_TIMESTAMP, false);
  const echoDelay = view.getUint32(HEARTBEAT_ECHO_DELAY, false);
  const hasEcho = (h.flags & FLAG_HEARTBEAT_ECHO) !== 0;
  if (!hasEcho && (echoTimestamp !== 0 || echoDelay !== 0)) return reject('range');
  const flows: HeartbeatFlow[] = [];
  let last = 0;
  for (let i = 0; i < n; i++) {
    const at = HEARTBEAT_FLOWS + i * HEARTBEAT_FLOW_SIZE;
    const code = view.getUint8(at);
    const flow = flowName(code);
    if (flow === null) return reject('enum');
    // Ascending, once each, and only flows this side sends: MO and BC from the master, RO from a remote.
    if (code <= last || (fromMaster ? code === FLOW_RO : code !== FLOW_RO)) return reject('flow');
    last = code;
    flows.push({ flow, highestSeq: view.getUint32(at + 1, false) });
  }
  return {
    ok: true,
    msg: {
      type: 'heartbeat',
      ...envelopeOf(h),
      timestamp: view.getUint32(HEARTBEAT_TIMESTAMP, false),
      echo: hasEcho ? { timestamp: echoTimestamp, delay: echoDelay } : null,
      wantBcUnicast: (h.flags & FLAG_HEARTBEAT_WANT_BC_UNICAST) !== 0,
      flows,
      cookie: hasCookie ? bytes.subarray(cookieAt, cookieAt + HEARTBEAT_COOKIE_SIZE) : null,
    },
  };
}

export function encodeHeartbeat(m: HeartbeatMessage): Buffer {
  const cookie = m.cookie ?? null;
  if (cookie !== null && cookie.byteLength !== HEARTBEAT_COOKIE_SIZE) throw new RangeError(`cookie must be ${HEARTBEAT_COOKIE_SIZE} bytes`);
  const cookieAt = HEARTBEAT_FLOWS + m.flows.length * HEARTBEAT_FLOW_SIZE;
  const w = new Writer(cookieAt + (cookie !== null ? HEARTBEAT_COOKIE_SIZE : 0));
  const flags =
    (m.echo !== null ? FLAG_HEARTBEAT_ECHO : 0) | (m.wantBcUnicast ? FLAG_HEARTBEAT_WANT_BC_UNICAST : 0) | (cookie !== null ? FLAG_HEARTBEAT_COOKIE : 0);
  writeHeader(w, TYPE_HEARTBEAT, flags, FLOW_NONE, m);
  w.u32(HEARTBEAT_TIMESTAMP, m.timestamp, 'timestamp');
  w.u32(HEARTBEAT_ECHO_TIMESTAMP, m.echo?.timestamp ?? 0, 'echo.timestamp');
  w.u32(HEARTBEAT_ECHO_DELAY, m.echo?.delay ?? 0, 'echo.delay');
  w.u8(HEARTBEAT_FLOW_COUNT, m.flows.length, 'flow count');
  m.flows.forEach((f, i) => {
    const at = HEARTBEAT_FLOWS + i * HEARTBEAT_FLOW_SIZE;
    w.u8(at, FLOW_CODES[f.flow], 'flow');
    w.u32(at + 1, f.highestSeq, 'highestSeq');
  });
  if (cookie !== null) w.bytes(cookieAt, cookie);
  return w.buf;
}

// spec/protocol.md §6.3 DIGEST
export function decodeDigest(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: DigestMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  const flow = flowName(h.flow);
  if (flow === null) return reject('flow');
  if (!flowRouteOk(h.flow, h.src, h.dst, true)) return reject('role');
  if (bytes.byteLength < DIGEST_HASHES) return reject('short');
  const n = view.getUint16(DIGEST_HASH_COUNT, false);
  if (n < 1) return reject('count');
  if (bytes.byteLength !== DIGEST_HASHES + n * DIGEST_HASH_SIZE) return reject('length');
  const firstPage = view.getUint32(DIGEST_FIRST_PAGE, false);
  if (firstPage + n > 0x1_0000_0000) return reject('range');
  const hashes = new BigUint64Array(n);
  for (let i = 0; i < n; i++) hashes[i] = view.getBigUint64(DIGEST_HASHES + i * DIGEST_HASH_SIZE, false);
  return {
    ok: true,
    msg: { type: 'digest', ...envelopeOf(h), flow, batchId: view.getUint32(DIGEST_BATCH_ID, false), firstPage, hashes },
  };
}

export function encodeDigest(m: DigestMessage): Buffer {
  const w = new Writer(DIGEST_HASHES + m.hashes.length * DIGEST_HASH_SIZE);
  writeHeader(w, TYPE_DIGEST, 0, FLOW_CODES[m.flow], m);
  w.u32(DIGEST_BATCH_ID, m.batchId, 'batchId');
  w.u32(DIGEST_FIRST_PAGE, m.firstPage, 'firstPage');
  w.u16(DIGEST_HASH_COUNT, m.hashes.length, 'hash count');
  m.hashes.forEach((x, i) => w.u64(DIGEST_HASHES + i * DIGEST_HASH_SIZE, x, 'hash'));
  return w.buf;
}

// spec/protocol.md §6.4 RESYNC
export function decodeResync(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: ResyncMessage } | Rejected {
  if ((h.flags & ~FLAG_RESYNC_FULL) !== 0) return reject('flags');
  const flow = flowName(h.flow);
  if (flow === null) return reject('flow');
  if (!flowRouteOk(h.flow, h.src, h.dst, false)) return reject('role');
  if (bytes.byteLength < RESYNC_SIZE) return reject('short');
  if (bytes.byteLength !== RESYNC_SIZE) return reject('length');
  const full = (h.flags & FLAG_RESYNC_FULL) !== 0;
  const firstPage = view.getUint32(RESYNC_FIRST_PAGE, false);
  const pageCount = view.getUint32(RESYNC_PAGE_COUNT, false);
  if (full ? firstPage !== 0 || pageCount !== 0 : pageCount < 1 || firstPage + pageCount > 0x1_0000_0000) {
    return reject('range');
  }
  return { ok: true, msg: { type: 'resync', ...envelopeOf(h), flow, full, firstPage, pageCount } };
}

export function encodeResync(m: ResyncMessage): Buffer {
  const w = new Writer(RESYNC_SIZE);
  writeHeader(w, TYPE_RESYNC, m.full ? FLAG_RESYNC_FULL : 0, FLOW_CODES[m.flow], m);
  w.u32(RESYNC_FIRST_PAGE, m.firstPage, 'firstPage');
  w.u32(RESYNC_PAGE_COUNT, m.pageCount, 'pageCount');
  return w.buf;
}

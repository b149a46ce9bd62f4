/**
 * Page content (spec/protocol.md §5): DATA carries one byte range of one page in the
 * network-neutral form, COMMIT closes a batch. Neither decoder knows the session's page
 * size or word size; checkDataAgainstSegment does those checks before any byte is copied
 * into a segment (STYLE: never trust an index from the wire).
 */
import {
  COMMIT_BATCH_ID,
  COMMIT_DATA_COUNT,
  COMMIT_PAGE_COUNT,
  COMMIT_SEQ,
  COMMIT_SIZE,
  DATA_BATCH_ID,
  DATA_LENGTH,
  DATA_OFFSET,
  DATA_PAGE,
  DATA_PAYLOAD,
  DATA_SEQ,
  FLAG_COMMIT_FULL,
  FLAG_COMMIT_REPLACES,
  MAX_PAGE_SIZE,
  MAX_SEQ_SPAN,
  TAG_SIZE,
  TYPE_COMMIT,
  TYPE_DATA,
} from './constants.js';
import { envelopeOf, FLOW_CODES, flowName, flowRouteOk, reject, writeHeader, Writer } from './header.js';
import type { DecodeRejectReason, Envelope, FlowName, Header, Rejected } from './header.js';

/** spec §5.1 DATA: bytes [offset, offset + payload.length) of page `page`, big-endian words. */
export interface DataMessage extends Envelope {
  type: 'data';
  flow: FlowName;
  seq: number;
  batchId: number;
  page: number;
  offset: number;
  /** Decoded: a subarray of the datagram (no copy). */
  payload: Uint8Array;
}

/** spec §5.2 COMMIT: batch `batchId` is DATA seq - dataCount .. seq - 1. */
export interface CommitMessage extends Envelope {
  type: 'commit';
  flow: FlowName;
  seq: number;
  batchId: number;
  dataCount: number;
  pageCount: number;
  /** Every unapplied batch before this one is abandoned; this batch covers their pages. */
  replaces: boolean;
  /** The batch holds every page of the segment. */
  full: boolean;
}

// spec/protocol.md §5.1 DATA
export function decodeData(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: DataMessage } | Rejected {
  if (h.flags !== 0) return reject('flags');
  const flow = flowName(h.flow);
  if (flow === null) return reject('flow');
  if (!flowRouteOk(h.flow, h.src, h.dst, true)) return reject('role');
  if (bytes.byteLength < DATA_PAYLOAD) return reject('short');
  const offset = view.getUint16(DATA_OFFSET, false);
  const length = view.getUint16(DATA_LENGTH, false);
  if (length === 0 || DATA_PAYLOAD + length !== bytes.byteLength) return reject('length');
  if (offset + length > MAX_PAGE_SIZE) return reject('range');
  return {
    ok: true,
    msg: {
      type: 'data',
      ...envelopeOf(h),
      flow,
      seq: view.getUint32(DATA_SEQ, false),
      batchId: view.getUint32(DATA_BATCH_ID, false),
      page: view.getUint32(DATA_PAGE, false),
      offset,
      payload: bytes.subarray(DATA_PAYLOAD, DATA_PAYLOAD + length),
    },
  };
}

export function encodeData(m: DataMessage): Buffer {
  // Every byte is written below (header, the five fields, the payload): no need to zero it.
  const w = new Writer(DATA_PAYLOAD + m.payload.byteLength, false);
  writeHeader(w, TYPE_DATA, 0, FLOW_CODES[m.flow], m);
  w.u32(DATA_SEQ, m.seq, 'seq');
  w.u32(DATA_BATCH_ID, m.batchId, 'batchId');
  w.u32(DATA_PAGE, m.page, 'page');
  w.u16(DATA_OFFSET, m.offset, 'offset');
  w.u16(DATA_LENGTH, m.payload.byteLength, 'payload length');
  w.bytes(DATA_PAYLOAD, m.payload);
  return w.buf;
}

/** The session's view of a segment, for checking DATA, DIGEST and RESYNC against it. */
export interface SegmentGeometry {
  pageSize: number;
  wordSize: number;
  /** Pages in the segment (segment size / page size). */
  pageCount: number;
}

/**
 * spec §5.1 rules that need the session: the page exists, the range lies in it, and both
 * offset and length are whole words. Returns null when the DATA may be applied.
 */
export function checkDataAgainstSegment(m: DataMessage, g: SegmentGeometry): DecodeRejectReason | null {
  if (m.page >= g.pageCount) return 'range';
  if (m.offset + m.payload.byteLength > g.pageSize) return 'range';
  if (m.offset % g.wordSize !== 0 || m.payload.byteLength % g.wordSize !== 0) return 'length';
  return null;
}

/**
 * spec §6.3, §6.4: a DIGEST's or RESYNC's page run lies inside the segment. Returns null
 * when it does (a FULL RESYNC, with count 0, always does).
 */
export function checkPagesAgainstSegment(firstPage: number, count: number, g: SegmentGeometry): DecodeRejectReason | null {
  return firstPage + count <= g.pageCount ? null : 'range';
}

/**
 * Largest DATA payload that keeps a datagram within `mtu` (spec §5.3): whole words only,
 * minus the AEAD tag when sealed.
 */
export function maxDataPayload(mtu: number, wordSize: number, sealed: boolean): number {
  const room = mtu - DATA_PAYLOAD - (sealed ? TAG_SIZE : 0);
  return Math.min(MAX_PAGE_SIZE, room - (room % wordSize));
}

// spec/protocol.md §5.2 COMMIT
export function decodeCommit(h: Header, view: DataView, bytes: Uint8Array): { ok: true; msg: CommitMessage } | Rejected {
  if ((h.flags & ~(FLAG_COMMIT_REPLACES | FLAG_COMMIT_FULL)) !== 0) return reject('flags');
  const flow = flowName(h.flow);
  if (flow === null) return reject('flow');
  if (!flowRouteOk(h.flow, h.src, h.dst, true)) return reject('role');
  if (bytes.byteLength < COMMIT_SIZE) return reject('short');
  if (bytes.byteLength !== COMMIT_SIZE) return reject('length');
  const dataCount = view.getUint32(COMMIT_DATA_COUNT, false);
  const pageCount = view.getUint32(COMMIT_PAGE_COUNT, false);
  // Each page of a batch needs at least one DATA; a batch stays inside the serial window.
  if (dataCount < 1 || dataCount > MAX_SEQ_SPAN || pageCount < 1 || pageCount > dataCount) return reject('count');
  return {
    ok: true,
    msg: {
      type: 'commit',
      ...envelopeOf(h),
      flow,
      seq: view.getUint32(COMMIT_SEQ, false),
      batchId: view.getUint32(COMMIT_BATCH_ID, false),
      dataCount,
      pageCount,
      replaces: (h.flags & FLAG_COMMIT_REPLACES) !== 0,
      full: (h.flags & FLAG_COMMIT_FULL) !== 0,
    },
  };
}

export function encodeCommit(m: CommitMessage): Buffer {
  const w = new Writer(COMMIT_SIZE);
  const flags = (m.replaces ? FLAG_COMMIT_REPLACES : 0) | (m.full ? FLAG_COMMIT_FULL : 0);
  writeHeader(w, TYPE_COMMIT, flags, FLOW_CODES[m.flow], m);
  w.u32(COMMIT_SEQ, m.seq, 'seq');
  w.u32(COMMIT_BATCH_ID, m.batchId, 'batchId');
  w.u32(COMMIT_DATA_COUNT, m.dataCount, 'dataCount');
  w.u32(COMMIT_PAGE_COUNT, m.pageCount, 'pageCount');
  return w.buf;
}

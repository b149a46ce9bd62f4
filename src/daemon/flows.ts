/**
 * The two ends of a flow as a daemon holds them: an outgoing flow scans a region and feeds
 * a FlowSender; an incoming flow feeds a FlowReceiver whose batches are written into a
 * region inside the ST generation (DESIGN §3b). The daemon only wires these to peers.
 */
import { PageScanner } from '../segments/scanner.js';
import type { StatusRecords } from '../segments/status.js';
import { fromWire, toWire, type WordSize } from '../segments/word-codec.js';
import { native } from '../segments/native.js';
import { DIGEST_HASHES, DIGEST_HASH_SIZE, TAG_SIZE } from '../udp/constants.js';
import { FlowReceiver, type ReceivedBatch } from '../reliability/receiver.js';
import { FlowSender } from '../reliability/sender.js';
import type { Clock } from '../reliability/clock.js';
import type { CommitMessage, DataMessage, FlowName, SeqRange } from '../udp/codec.js';
import { FlowTotals, type FlowReport } from './status-report.js';
import type { Outgoing } from './transport.js';

export interface FlowGeometry {
  pageSize: number;
  wordSize: WordSize;
  mtu: number;
}

/**
 * Write a whole batch into `region` while the record's generation is odd. Words are
 * converted off to the side and then copied, so even a plain (non-seqlock) reader never
 * sees a byte-swapped word.
 */
export function applyBatch(batch: ReceivedBatch, region: Buffer, pageSize: number, wordSize: WordSize, status: StatusRecords, record: number, scratch: Buffer): void {
  status.bump(record); // odd: consistent readers retry
  try {
    for (const d of batch.data) {
      const view = scratch.subarray(0, d.payload.byteLength);
      fromWire(d.payload, view, wordSize);
      view.copy(region, d.page * pageSize + d.offset);
    }
  } finally {
    status.bump(record); // even
  }
  status.stampBatch(record);
}

/** spec §5.4: XXH64, seed 0, over the page in the network-neutral form. */
export function pageHash(page: Uint8Array, wordSize: WordSize, scratch: Buffer): bigint {
  const wire = scratch.subarray(0, page.byteLength);
  toWire(page, wire, wordSize);
  return native.xxh64(wire, 0n);
}

/** Hashes per DIGEST datagram that fit `mtu` (spec §6.3: 145 at 1200 unsealed). */
export function hashesPerDigest(mtu: number, sealed: boolean): number {
  return Math.floor((mtu - DIGEST_HASHES - (sealed ? TAG_SIZE : 0)) / DIGEST_HASH_SIZE);
}

export interface DigestChunk {
  batchId: number;
  firstPage: number;
  hashes: BigUint64Array;
}

/** An outgoing flow: region -> scanner -> sender. The scanner outlives sessions. */
export class OutFlow {
  readonly flow: FlowName;
  readonly scanner: PageScanner;
  readonly #status: StatusRecords;
  readonly record: number;
  sender: FlowSender | undefined;
  readonly #totals: FlowTotals;
  /** A full batch is owed to the peer (join, epoch change, full RESYNC). */
  #fullOwed = false;
  /** Scans in a row that found the writers' generation odd or moving. */
  busyStreak = 0;
  #onStuck: ((intervals: number) => void) | undefined;

  /** Called when writers held the generation for many intervals in a row. */
  onStuck(fn: (intervals: number) => void): void {
    this.#onStuck = fn;
  }

  constructor(flow: FlowName, region: Buffer, pageSize: number, status: StatusRecords, record: number) {
    this.flow = flow;
    this.scanner = new PageScanner(region, pageSize);
    this.#status = status;
    this.record = record;
    this.#totals = new FlowTotals(flow, 'out');
  }

  /** Counters over every session of this flow. */
  report(): FlowReport {
    return this.#totals.with(this.sender ? FlowTotals.fromSender(this.flow, this.sender.counters) : undefined);
  }

  /** Start a session: a new sender whose first batch will be every page. */
  start(options: { src: number; dst: number; epoch: number; firstSeq: number; geometry: FlowGeometry; sealed: boolean; clock: Clock; emit(msg: DataMessage | CommitMessage): void }): FlowSender {
    this.stop();
    this.sender = new FlowSender({
      flow: this.flow,
      src: options.src,
      dst: options.dst,
      epoch: options.epoch,
      firstSeq: options.firstSeq,
      pageSize: options.geometry.pageSize,
      wordSize: options.geometry.wordSize,
      mtu: options.geometry.mtu,
      sealed: options.sealed,
      clock: options.clock,
      source: this.scanner,
      emit: options.emit,
    });
    this.#fullOwed = true;
    return this.sender;
  }

  stop(): void {
    if (this.sender) this.#totals.add(FlowTotals.fromSender(this.flow, this.sender.counters));
    this.sender = undefined;
  }

  /**
   * spec §7.8: the hashes of every page as last sent (the latest snapshot), in chunks that
   * fit one DIGEST each, naming the last batch committed. Empty before the first batch.
   */
  digest(wordSize: WordSize, perDatagram: number): DigestChunk[] {
    const sender = this.sender;
    if (!sender || sender.lastBatchId === 0 || this.#fullOwed) return [];
    const scratch = Buffer.allocUnsafe(this.scanner.pageSize);
    const chunks: DigestChunk[] = [];
    for (let first = 0; first < this.scanner.pageCount; first += perDatagram) {
      const count = Math.min(perDatagram, this.scanner.pageCount - first);
      const hashes = new BigUint64Array(count);
      for (let i = 0; i < count; i++) hashes[i] = pageHash(this.scanner.page(first + i), wordSize, scratch);
      chunks.push({ batchId: sender.lastBatchId, firstPage: first, hashes });
    }
    return chunks;
  }

  owesFull(): void {
    this.#fullOwed = true;
  }

  /**
   * One interval: snapshot while the writers' generation is even and unchanged, then send
   * the dirty pages (or every page when a full batch is owed) as one batch. Returns the
   * number of pages sent, or 'busy' when writers held the generation.
   */
  tick(): number | 'busy' {
    const sender = this.sender;
    if (!sender) return 0;
    const result = this.scanner.scan(() => this.#status.generation(this.record));
    if (result === 'busy') {
      this.busyStreak++;
      // A writer that died with the generation odd stops this flow until someone fixes it:
      // say so after 10 intervals, then every 600.
      if (this.busyStreak === 10 || this.busyStreak % 600 === 0) this.#onStuck?.(this.busyStreak);
      return 'busy';
    }
    this.busyStreak = 0;
    if (this.#fullOwed) {
      this.#fullOwed = false;
      sender.sendFull();
      this.#status.stampBatch(this.record);
      return this.scanner.pageCount;
    }
    if (result.dirty.length === 0) return 0;
    sender.sendBatch(result.dirty);
    this.#status.stampBatch(this.record);
    return result.dirty.length;
  }
}

/** An incoming flow: receiver -> region, inside the ST generation. */
export class InFlow {
  readonly flow: FlowName;
  readonly region: Buffer;
  readonly record: number;
  readonly #status: StatusRecords;
  readonly #geometry: FlowGeometry;
  readonly #scratch: Buffer;
  receiver: FlowReceiver | undefined;
  readonly #totals: FlowTotals;

  constructor(flow: FlowName, region: Buffer, geometry: FlowGeometry, status: StatusRecords, record: number) {
    this.flow = flow;
    this.region = region;
    this.record = record;
    this.#status = status;
    this.#geometry = geometry;
    this.#scratch = Buffer.alloc(geometry.pageSize);
    this.#totals = new FlowTotals(flow, 'in');
  }

  #live(): FlowReport | undefined {
    const r = this.receiver;
    return r ? FlowTotals.fromReceiver(this.flow, r.counters, r.pending, r.counters.bytes) : undefined;
  }

  /** Counters over every session of this flow. */
  report(): FlowReport {
    return this.#totals.with(this.#live());
  }

  start(options: {
    firstSeq: number;
    clock: Clock;
    sendNack(ranges: SeqRange[]): void;
    requestResync(firstPage: number, pageCount: number, full: boolean): void;
    nackBackoff?: () => number;
  }): FlowReceiver {
    this.stop();
    const { pageSize, wordSize } = this.#geometry;
    this.receiver = new FlowReceiver({
      flow: this.flow,
      firstSeq: options.firstSeq,
      clock: options.clock,
      geometry: { pageSize, wordSize, pageCount: this.region.length / pageSize },
      apply: (batch) => applyBatch(batch, this.region, pageSize, wordSize, this.#status, this.record, this.#scratch),
      sendNack: options.sendNack,
      requestResync: options.requestResync,
      ...(options.nackBackoff ? { nackBackoff: options.nackBackoff } : {}),
    });
    return this.receiver;
  }

  stop(): void {
    const live = this.#live();
    if (live) this.#totals.add(live);
    this.receiver?.close();
    this.receiver = undefined;
  }

  /** spec §7.8: compare a DIGEST with this segment; RESYNC what differs. Returns those pages. */
  onDigest(chunk: DigestChunk): number[] {
    if (!this.receiver) return [];
    const { pageSize, wordSize } = this.#geometry;
    return this.receiver.onDigest(chunk.batchId, chunk.firstPage, chunk.hashes, (page) =>
      pageHash(this.region.subarray(page * pageSize, (page + 1) * pageSize), wordSize, this.#scratch),
    );
  }
}

/** What a receiver sends back to its flow's sender (spec §6.1 NACK, §6.4 RESYNC). */
export interface Feedback {
  sendNack(ranges: SeqRange[]): void;
  requestResync(firstPage: number, pageCount: number, full: boolean): void;
}

/**
 * The NACK and RESYNC of `flow`, from `src` to `dst` in this node's current epoch (read at
 * each send: a remote renews its epoch when it joins again), handed to `send`.
 */
export function feedback(
  send: (msg: Outgoing) => void,
  flow: FlowName,
  src: number,
  dst: number,
  epoch: () => number,
): Feedback {
  return {
    sendNack: (ranges) => send({ type: 'nack', src, dst, epoch: epoch(), flow, ranges }),
    requestResync: (firstPage, pageCount, full) => send({ type: 'resync', src, dst, epoch: epoch(), flow, full, firstPage, pageCount }),
  };
}

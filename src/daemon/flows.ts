/**
 * The two ends of a flow as a daemon holds them: an outgoing flow scans a region and feeds
 * a FlowSender; an incoming flow feeds a FlowReceiver whose batches are written into a
 * region inside the ST generation (docs/design.md §3b). The daemon only wires these to peers.
 *
 * Timing: nothing here holds the event loop for long, whatever the segment size. A large
 * region is scanned in slices (scanner.ts SlicedScan, one step per setImmediate turn); the
 * sender paces its datagrams (sender.ts); and a batch is applied in steps of APPLY_STEP_MS,
 * one per turn, while the record's generation stays odd from the first step to the last, so
 * a consistent reader retries until the whole batch is in (docs/design.md §3b) and everything else
 * (socket reads, heartbeats, other flows) runs in between. Batches are applied in the order
 * the receiver hands them over; a DIGEST is not compared while one is being applied.
 */
import { PageScanner, type ScanResult, type SlicedScan } from '../segments/scanner.js';
import type { StatusRecords } from '../segments/status.js';
import { fromWire, toWire, type WordSize } from '../segments/word-codec.js';
import { native } from '../segments/native.js';
import { DIGEST_HASHES, DIGEST_HASH_SIZE, TAG_SIZE } from '../udp/constants.js';
import { FlowReceiver, type ReceivedBatch } from '../reliability/receiver.js';
import { FlowSender, type BatchEvent } from '../reliability/sender.js';
import { windowFor } from '../reliability/receiver.js';
import type { Clock } from '../reliability/clock.js';
import type { CommitMessage, DataMessage, FlowName, SeqRange } from '../udp/codec.js';
import { FlowTotals, type FlowReport, type ResyncProgress } from './status-report.js';
import type { Outgoing } from './transport.js';
import type { FlushGate } from './flush-gate.js';

export interface FlowGeometry {
  pageSize: number;
  wordSize: WordSize;
  mtu: number;
}

/** Work one apply step does before it yields, ms. */
export const APPLY_STEP_MS = 8;

/**
 * A full resync of an outgoing flow began or ended: what the daemon logs (`full resync
 * started` / `full resync done` with size, duration and rate).
 */
export interface ResyncEvent {
  flow: FlowName;
  direction: 'in' | 'out';
  kind: 'start' | 'end';
  bytes: number;
  durationMs?: number;
  /** Page bytes per second over the whole resync (at 'end'). */
  rate?: number;
}

/**
 * Write a whole batch into `region` while the record's generation is odd. Words are
 * converted off to the side and then copied, so even a plain (non-seqlock) reader never
 * sees a byte-swapped word. In one go: for small batches and tests; InFlow uses BatchApplier.
 */
export function applyBatch(
  batch: ReceivedBatch,
  region: Buffer,
  pageSize: number,
  wordSize: WordSize,
  status: StatusRecords,
  record: number,
  scratch: Buffer,
): void {
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

/**
 * Applies batches in order, each in steps of about APPLY_STEP_MS per event-loop turn, the
 * record's generation odd from the first step to the last (see the module comment).
 */
export class BatchApplier {
  readonly #queue: ReceivedBatch[] = [];
  #index = 0;
  #odd = false;
  #scheduled = false;
  #startedAt = 0;
  readonly #apply: { region: Buffer; pageSize: number; wordSize: WordSize; status: StatusRecords; record: number; scratch: Buffer };
  /** A batch finished applying (bytes, ms from its first step to its last). */
  onApplied: ((batch: ReceivedBatch, bytes: number, ms: number) => void) | undefined;

  constructor(region: Buffer, pageSize: number, wordSize: WordSize, status: StatusRecords, record: number) {
    this.#apply = { region, pageSize, wordSize, status, record, scratch: Buffer.alloc(pageSize) };
  }

  /** True while a batch is half applied or waiting. */
  get busy(): boolean {
    return this.#queue.length > 0;
  }

  /** The batch being applied: bytes done of total. */
  get progress(): { bytesDone: number; bytesTotal: number; full: boolean } | undefined {
    const b = this.#queue[0];
    if (!b || b.data.length === 0) return undefined;
    const per = b.data[0]!.payload.byteLength;
    return { bytesDone: this.#index * per, bytesTotal: b.data.length * per, full: b.full };
  }

  push(batch: ReceivedBatch): void {
    this.#queue.push(batch);
    if (!this.#scheduled) this.#run();
  }

  #run(): void {
    this.#scheduled = false;
    const a = this.#apply;
    const deadline = performance.now() + APPLY_STEP_MS;
    while (this.#queue.length > 0) {
      const b = this.#queue[0]!;
      if (!this.#odd) {
        a.status.bump(a.record); // odd: consistent readers retry
        this.#odd = true;
        this.#startedAt = performance.now();
      }
      let i = this.#index;
      try {
        for (; i < b.data.length; i++) {
          const d = b.data[i]!;
          const view = a.scratch.subarray(0, d.payload.byteLength);
          fromWire(d.payload, view, a.wordSize);
          view.copy(a.region, d.page * a.pageSize + d.offset);
          if ((i & 63) === 63 && performance.now() > deadline) {
            i++;
            break;
          }
        }
      } catch (err) {
        // Cannot happen for DATA checked against the segment; never leave the generation odd.
        a.status.bump(a.record);
        this.#odd = false;
        this.#queue.shift();
        this.#index = 0;
        throw err;
      }
      this.#index = i;
      if (i < b.data.length) break;
      a.status.bump(a.record); // even
      this.#odd = false;
      a.status.stampBatch(a.record);
      this.#queue.shift();
      this.#index = 0;
      let bytes = 0;
      for (const d of b.data) bytes += d.payload.byteLength;
      this.onApplied?.(b, bytes, performance.now() - this.#startedAt);
      if (performance.now() > deadline) break;
    }
    if (this.#queue.length > 0) {
      this.#scheduled = true;
      setImmediate(() => this.#run());
    }
  }
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
  /** A sliced scan under way (large regions), and whether a full batch follows it. */
  #scan: SlicedScan | undefined;
  #digestJob: { sender: FlowSender; batchId: number; chunks: DigestChunk[]; done: boolean } | undefined;
  /** Full resyncs begin and end: the daemon logs them. */
  onResync: ((e: ResyncEvent) => void) | undefined;
  /** Flush on demand for this flow (the daemon sets it; its counters show in report()). */
  flushGate: FlushGate | undefined;

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
    const r = this.#totals.with(this.sender ? FlowTotals.fromSender(this.flow, this.sender.counters) : undefined);
    const p = this.sender?.progress;
    if (p && p.full) {
      const resync: ResyncProgress = { bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, rate: p.rate };
      if (p.etaS !== undefined) resync.etaS = p.etaS;
      r.resync = resync;
    }
    const fc = this.sender?.flowControl;
    if (fc) r.paceRate = fc.rate;
    if (this.flushGate) {
      r.flushRequests = this.flushGate.requests;
      r.flushScans = this.flushGate.scans;
    }
    return r;
  }

  #onBatch(e: BatchEvent): void {
    if (!e.full) return;
    if (e.kind === 'start') {
      this.onResync?.({ flow: this.flow, direction: 'out', kind: 'start', bytes: e.bytes });
      return;
    }
    const ms = e.durationMs ?? 0;
    this.onResync?.({
      flow: this.flow,
      direction: 'out',
      kind: 'end',
      bytes: e.bytes,
      durationMs: Math.round(ms),
      rate: ms > 0 ? Math.round((e.bytes * 1000) / ms) : 0,
    });
  }

  /** Start a session: a new sender whose first batch will be every page. */
  start(options: {
    src: number;
    dst: number;
    epoch: number;
    firstSeq: number;
    geometry: FlowGeometry;
    sealed: boolean;
    clock: Clock;
    emit(msg: DataMessage | CommitMessage): void;
  }): FlowSender {
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
      onBatch: (e) => this.#onBatch(e),
      holdBatches: () => this.#scan?.committing ?? false,
    });
    this.#fullOwed = true;
    return this.sender;
  }

  stop(): void {
    if (this.sender) this.#totals.add(FlowTotals.fromSender(this.flow, this.sender.counters));
    this.#scan = undefined;
    this.sender?.close();
    this.sender = undefined;
  }

  /**
   * spec §7.8: the hashes of every page as last sent (the latest snapshot), in chunks that
   * fit one DIGEST each, naming the last batch committed. Empty before the first batch.
   */
  digest(wordSize: WordSize, perDatagram: number): DigestChunk[] {
    const sender = this.sender;
    // spec §7.8: not while SENDING (the hashes would name a batch still on its way).
    if (!sender || sender.lastBatchId === 0 || this.#fullOwed || sender.sending || this.#scan) return [];
    if (this.scanner.needsSlicing) return this.#slicedDigest(sender, wordSize, perDatagram);
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

  /**
   * A large region's digest is hashed in steps across turns (like its scan): the first call
   * of a period starts it and returns nothing; a later call returns it if no batch was sent
   * since (the hashes still name the last batch), else starts over.
   */
  #slicedDigest(sender: FlowSender, wordSize: WordSize, perDatagram: number): DigestChunk[] {
    const d = this.#digestJob;
    if (d && d.done && d.batchId === sender.lastBatchId && d.sender === sender) {
      this.#digestJob = undefined;
      return d.chunks;
    }
    if (d && !d.done && d.batchId === sender.lastBatchId && d.sender === sender) return [];
    const job = { sender, batchId: sender.lastBatchId, chunks: [] as DigestChunk[], done: false };
    this.#digestJob = job;
    const scratch = Buffer.allocUnsafe(this.scanner.pageSize);
    let first = 0;
    const step = (): void => {
      if (this.#digestJob !== job || sender.lastBatchId !== job.batchId) return;
      const deadline = performance.now() + APPLY_STEP_MS;
      while (first < this.scanner.pageCount && performance.now() < deadline) {
        const count = Math.min(perDatagram, this.scanner.pageCount - first);
        const hashes = new BigUint64Array(count);
        for (let i = 0; i < count; i++) hashes[i] = pageHash(this.scanner.page(first + i), wordSize, scratch);
        job.chunks.push({ batchId: job.batchId, firstPage: first, hashes });
        first += count;
      }
      if (first < this.scanner.pageCount) setImmediate(step);
      else job.done = true;
    };
    step();
    return [];
  }

  owesFull(): void {
    this.#fullOwed = true;
  }

  /**
   * One interval: snapshot while the writers' generation is even and unchanged, then send
   * the dirty pages (or every page when a full batch is owed) as one batch. Returns the
   * number of pages sent, or 'busy' when writers held the generation.
   */
  tick(): number | 'busy' | 'scanning' {
    const sender = this.sender;
    if (!sender) return 0;
    // spec §7.4: SENDING skips the scan (the next one sees the pages); the snapshot must not
    // change under a batch that is still reading it.
    if (this.#scan || sender.sending) return 'scanning';
    const generation = (): bigint => this.#status.generation(this.record);
    if (this.scanner.needsSlicing) {
      const scan = this.scanner.sliced(generation);
      this.#scan = scan;
      const step = (): void => {
        if (this.#scan !== scan) return; // the session ended
        const r = scan.step();
        if (r === undefined) {
          setImmediate(step);
          return;
        }
        this.#scan = undefined;
        if (this.sender) {
          this.#finish(this.sender, r);
          this.sender.kick();
        }
      };
      step();
      return 'scanning';
    }
    return this.#finish(sender, this.scanner.scan(generation));
  }

  #finish(sender: FlowSender, result: ScanResult | 'busy'): number | 'busy' {
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
  readonly #geometry: FlowGeometry;
  readonly #scratch: Buffer;
  receiver: FlowReceiver | undefined;
  readonly #totals: FlowTotals;
  readonly #applier: BatchApplier;
  /** When the session's first (full) batch began to arrive, for its rate. */
  #joinStarted: number | undefined;
  /** Full resyncs received begin (first datagram of a session) and end (applied): the daemon logs them. */
  onResync: ((e: ResyncEvent) => void) | undefined;

  constructor(flow: FlowName, region: Buffer, geometry: FlowGeometry, status: StatusRecords, record: number) {
    this.flow = flow;
    this.region = region;
    this.record = record;
    this.#geometry = geometry;
    this.#scratch = Buffer.alloc(geometry.pageSize);
    this.#totals = new FlowTotals(flow, 'in');
    this.#applier = new BatchApplier(region, geometry.pageSize, geometry.wordSize, status, record);
    this.#applier.onApplied = (batch, bytes) => {
      if (!batch.full || this.#joinStarted === undefined) return;
      const ms = performance.now() - this.#joinStarted;
      this.#joinStarted = undefined;
      this.onResync?.({ flow: this.flow, direction: 'in', kind: 'end', bytes, durationMs: Math.round(ms), rate: ms > 0 ? Math.round((bytes * 1000) / ms) : 0 });
    };
  }

  /** True while a batch is being written into the segment (in steps). */
  get applying(): boolean {
    return this.#applier.busy;
  }

  #live(): FlowReport | undefined {
    const r = this.receiver;
    return r ? FlowTotals.fromReceiver(this.flow, r.counters, r.pending, r.counters.bytes) : undefined;
  }

  /** Counters over every session of this flow, and a full resync's progress while one runs. */
  report(): FlowReport {
    const report = this.#totals.with(this.#live());
    const applying = this.#applier.progress;
    const join = this.receiver?.joinProgress;
    const elapsed = this.#joinStarted === undefined ? 0 : (performance.now() - this.#joinStarted) / 1000;
    const progress = applying?.full
      ? { ...applying, phase: 'applying' as const }
      : join && join.bytesDone > 0
        ? { ...join, phase: 'receiving' as const }
        : undefined;
    if (progress) {
      const rate = elapsed > 0 ? progress.bytesDone / elapsed : 0;
      const resync: ResyncProgress = { bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal, rate: Math.round(rate), phase: progress.phase };
      if (rate > 0 && progress.phase === 'receiving') resync.etaS = Math.round(((progress.bytesTotal - progress.bytesDone) / rate) * 10) / 10;
      report.resync = resync;
    }
    return report;
  }

  /** A datagram was held: note when a session's first (full) batch begins to arrive. */
  #noteArrival(): void {
    if (this.#joinStarted !== undefined || !this.receiver?.joinProgress) return;
    this.#joinStarted = performance.now();
    this.onResync?.({ flow: this.flow, direction: 'in', kind: 'start', bytes: this.region.length });
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
    const geometry = { pageSize, wordSize, pageCount: this.region.length / pageSize };
    const receiver = new FlowReceiver({
      flow: this.flow,
      firstSeq: options.firstSeq,
      clock: options.clock,
      geometry,
      // Room for a full batch at the smallest MTU (spec §11), whatever this session's is.
      window: windowFor(geometry, 576),
      onHeld: () => this.#noteArrival(),
      apply: (batch) => this.#applier.push(batch),
      sendNack: options.sendNack,
      requestResync: options.requestResync,
      ...(options.nackBackoff ? { nackBackoff: options.nackBackoff } : {}),
    });
    this.receiver = receiver;
    this.#joinStarted = undefined;
    return receiver;
  }

  stop(): void {
    const live = this.#live();
    if (live) this.#totals.add(live);
    this.receiver?.close();
    this.receiver = undefined;
  }

  /** spec §7.8: compare a DIGEST with this segment; RESYNC what differs. Returns those pages. */
  onDigest(chunk: DigestChunk): number[] {
    // Not while a batch is half written: the segment is neither the old nor the new state.
    if (!this.receiver || this.#applier.busy) return [];
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
export function feedback(send: (msg: Outgoing) => void, flow: FlowName, src: number, dst: number, epoch: () => number): Feedback {
  return {
    sendNack: (ranges) => send({ type: 'nack', src, dst, epoch: epoch(), flow, ranges }),
    requestResync: (firstPage, pageCount, full) => send({ type: 'resync', src, dst, epoch: epoch(), flow, full, firstPage, pageCount }),
  };
}

/**
 * The sending side of one flow (spec/protocol.md §5, §6, §7.4-§7.9): numbers DATA and
 * COMMIT datagrams in the flow's sequence space, keeps a bounded history for
 * retransmission, answers NACKs and RESYNCs, and paces what it sends.
 *
 * Timing: a batch is queued when the daemon's scan finds dirty pages (or a RESYNC or a
 * replacement asks for one); a pump then turns it into datagrams a few at a time, as the
 * flow controller (flow-control.ts, spec §7.9) allows, on the Clock's timers. One pump run
 * makes at most PUMP_SLICE datagrams (and runs at most PUMP_SLICE_MS) and yields, so a
 * batch of any size (a 256 MiB full resync is 262 145 datagrams at 1 KiB pages) never holds
 * the event loop: the daemon keeps reading its socket and heartbeating other sessions while
 * it streams. Retransmissions go before new data in the same paced queue; a NACK only
 * queues spans of numbers (repairs.ts), which the pump looks up as it goes. The repair
 * hold-off (spec §12): a sequence number retransmitted less than `holdOffMs` ago is not
 * sent again, so a burst of duplicate NACKs (or many receivers NACKing one loss) costs one
 * repair.
 *
 * History (spec §7.4, §12 History Bytes): bounded in bytes only, and sized by the daemon for
 * the largest batch (a full one); a datagram stays retransmittable until newer datagrams push
 * it out, however late the NACK (no time rule: spec §12 Retransmit Linger).
 *
 * Bounded work per datagram (spec §6.1, §6.4): every count from the wire is clipped to what
 * this sender holds before any loop: a NACK costs at most the history's length, whatever its
 * ranges say; a RESYNC outside the segment is dropped whole.
 *
 * When a NACK asks for a datagram of this session that fell out of the history, the batch it
 * belonged to can never complete. The sender then resends the current contents (the latest
 * snapshot) of every page of that batch and of all later ones as one new batch flagged
 * REPLACES (spec §7.7): the receiver drops every unapplied batch before it and applies this
 * one, so nobody waits forever (docs/design.md §6b). If even the batch's page list is gone, every
 * page is sent. Sequence numbers before the session's first are ignored (spec §7.6).
 *
 * The cut (spec §5.3, §8.1): a shared stream (BC) changes it with setMtu() as sessions come
 * and go; the next DATA, even inside a batch or a page, takes the new size (receivers take any
 * cut of whole pages). A held DATA larger than a NACKer's `limit` is answered as one no longer
 * held, by a replacement batch, never retransmitted oversized.
 */
import type { CommitMessage, DataMessage, FlowName, SeqRange } from '../udp/codec.js';
import { maxDataPayload } from '../udp/codec.js';
import { seqAdd, seqDiff, seqInRange, seqLt } from '../udp/serial.js';
import { SeqRing } from './seq-ring.js';
import { toWire, type WordSize } from '../segments/word-codec.js';
import { Deadline, type Clock } from './clock.js';
import { Slabs } from './slab.js';
import { nackSpans, RepairQueue, type Datagram } from './repairs.js';
import { FlowControl, type FlowControlOptions, type FlowControlState } from './flow-control.js';

/** Where the sender reads page contents from: the flow's latest snapshot. */
export interface PageSource {
  readonly pageCount: number;
  /** Native bytes of page `i` as of the latest scan. */
  page(i: number): Uint8Array;
}

export interface SenderOptions {
  flow: FlowName;
  /** Header src and dst of this flow's datagrams. */
  src: number;
  dst: number;
  /** This sender's epoch (spec §7.1). */
  epoch: number;
  /** Sequence number of the first datagram (from the handshake). */
  firstSeq: number;
  pageSize: number;
  wordSize: WordSize;
  mtu: number;
  sealed: boolean;
  source: PageSource;
  clock: Clock;
  /** Hand a datagram to the transport; the transport sets packetNumber. */
  emit(msg: DataMessage | CommitMessage): void;
  /** Bytes kept for retransmission (spec: History Bytes; default historyBytesFor(the source)). */
  historyBytes?: number;
  /** Batches whose page lists are kept for REPLACES (default 4096). */
  batchLimit?: number;
  /** Repair hold-off, ms (spec §12: max(SRTT, 20 ms)); default 20. */
  holdOffMs?: number;
  /** Flow control (spec §7.9); `false` sends as fast as the pump runs (tests, bench baselines). */
  flowControl?: FlowControlOptions | false;
  /** A batch started or ended (progress, the daemon's log line for full resyncs). */
  onBatch?(event: BatchEvent): void;
  /**
   * While true, queued batches wait (retransmissions still go): the source is being
   * rewritten by a sliced scan. Call kick() when it turns false.
   */
  holdBatches?(): boolean;
}

/** What `onBatch` reports: a batch began leaving, or its COMMIT left. */
export interface BatchEvent {
  kind: 'start' | 'end';
  batchId: number;
  full: boolean;
  replaces: boolean;
  pages: number;
  /** DATA + COMMIT of the batch. */
  datagrams: number;
  /** Page bytes of the batch. */
  bytes: number;
  /** At 'end': ms from its first DATA to its COMMIT. */
  durationMs?: number;
}

/** A batch being sent: what is done of it, for `pdsm status`. */
export interface SendProgress {
  batchId: number;
  full: boolean;
  bytesDone: number;
  bytesTotal: number;
  /** Page bytes per second since the batch began. */
  rate: number;
  /** Seconds left at that rate (undefined before a rate is known). */
  etaS?: number;
}

interface BatchRecord {
  batchId: number;
  firstSeq: number;
  commitSeq: number;
  pages: number[];
}

/** A batch queued or being turned into datagrams. */
interface Outgoing {
  batchId: number;
  pages: number[];
  full: boolean;
  replaces: boolean;
  firstSeq: number;
  /** Next page (index into pages) and offset in it to send. */
  pageIndex: number;
  offset: number;
  /** DATA of the batch: those sent plus those left at the current cut (exact once all are sent). */
  dataCount: number;
  startedAt: number;
  /** Its page list entry, once it started. */
  record?: BatchRecord;
}

export interface SenderCounters {
  batches: number;
  datagrams: number;
  bytes: number;
  retransmits: number;
  replaces: number;
  fullBatches: number;
  nacksReceived: number;
  nackedTooOld: number;
  /** NACKed datagrams held but cut larger than the repair's destination takes (spec §8.1): not retransmitted. */
  nackedOversized: number;
  /** NACK ranges wholly before the session's first sequence or not yet sent (ignored). */
  nackIgnored: number;
  /** NACKed numbers not queued: the repair queue was at its cap (the receiver asks again). */
  nackShed: number;
  /** RESYNCs refused whole (outside the segment, spec §6.4) or folded into a queued full batch. */
  resyncsRefused: number;
  resyncsCoalesced: number;
}

/** Most datagrams one pump run makes before it yields the event loop. */
export const PUMP_SLICE = 256;
/**
 * Most ms one pump run takes (issue 12): on a busy machine 256 datagrams took 50-110 ms of
 * one turn (encoding, sendmsg, buffer allocation), so a run also yields after this long.
 */
export const PUMP_SLICE_MS = 4;
/** Most queued repair numbers one pump run looks at (each one a history lookup). */
export const REPAIR_LOOKS = 4096;
/**
 * Most repair numbers queued at once: four times the history (a few peers re-asking for all
 * of it), at least this many. Beyond it a NACK's numbers are shed (nackShed).
 */
const REPAIR_QUEUE_FLOOR = 65_536;
/** Header cost of one history entry besides its payload. */
const ENTRY_COST = 40;

/** spec §8.1: a DATA cut larger than `limit` page bytes (a COMMIT always fits). */
function oversized(msg: DataMessage | CommitMessage, limit: number): boolean {
  return msg.type === 'data' && msg.payload.byteLength > limit;
}

/** What one history entry costs against History Bytes: its payload plus a header. */
function historyCost(msg: DataMessage | CommitMessage): number {
  return ENTRY_COST + (msg.type === 'data' ? msg.payload.byteLength : 0);
}

/**
 * spec §12 History Bytes for a flow of `regionBytes` sent in chunks of `chunk` bytes: room
 * for a full batch and a quarter more (the batches sent while it is repaired), at least 16 MiB.
 */
export function historyBytesFor(regionBytes: number, chunk: number): number {
  const datagrams = Math.ceil(regionBytes / chunk) + 1;
  return Math.max(16 * 1024 * 1024, Math.ceil((regionBytes + datagrams * ENTRY_COST) * 1.25));
}

export class FlowSender {
  readonly options: SenderOptions;
  readonly counters: SenderCounters = {
    batches: 0,
    datagrams: 0,
    bytes: 0,
    retransmits: 0,
    replaces: 0,
    fullBatches: 0,
    nacksReceived: 0,
    nackedTooOld: 0,
    nackedOversized: 0,
    nackIgnored: 0,
    nackShed: 0,
    resyncsRefused: 0,
    resyncsCoalesced: 0,
  };
  // spec: next_seq
  #nextSeq: number;
  /** DATA and COMMIT sent in this session (to tell a sequence before the session's first). */
  #sentInSession = 0;
  #nextBatchId = 1;
  // spec: retransmit history (seq -> datagram), oldest first, contiguous up to next_seq - 1
  // (seq-ring.ts: no Map, whose rehash at this size held the loop); each entry's stamp is when
  // it was last retransmitted
  readonly #history = new SeqRing<DataMessage | CommitMessage>();
  #historyBytes = 0;
  readonly #historyLimit: number;
  readonly #slabs = new Slabs();
  readonly #batches: BatchRecord[] = [];
  /** First seq of the latest REPLACES batch: NACKs for older seqs are covered by it. */
  #replacedBefore: number | undefined;
  /** spec §5.3 P: the most page bytes one DATA carries now (setMtu changes it). */
  #chunk: number;
  /** Batches waiting to be sent, the current one first. */
  readonly #queue: Outgoing[] = [];
  /** NACKed numbers waiting for the pacer, with where each goes (repairs.ts). */
  readonly #repairs = new RepairQueue(() => Math.max(REPAIR_QUEUE_FLOOR, 4 * this.#history.size));
  readonly #pumpTimer: Deadline;
  readonly #fc: FlowControl | undefined;
  #closed = false;
  /** A pump run is under way: a batch queued from inside it (a replacement) waits for its loop. */
  #pumping = false;

  constructor(options: SenderOptions) {
    this.options = options;
    this.#nextSeq = options.firstSeq >>> 0;
    this.#chunk = this.#chunkFor(options.mtu);
    this.#historyLimit = options.historyBytes ?? historyBytesFor(options.source.pageCount * options.pageSize, this.#chunk);
    this.#pumpTimer = new Deadline(options.clock, () => this.#pump());
    this.#fc = options.flowControl === false ? undefined : new FlowControl(options.clock.now(), options.flowControl ?? {});
  }

  /** Repair numbers queued and not yet looked at (bounded: repairs.ts RepairQueue). */
  get repairsQueued(): number {
    return this.#repairs.length;
  }

  /** spec: highest_seq_sent (the heartbeat's value); firstSeq - 1 before anything was sent. */
  get highestSeq(): number {
    return seqAdd(this.#nextSeq, -1);
  }

  /** spec §5.3 P: the most page bytes a DATA made now carries. */
  get chunk(): number {
    return this.#chunk;
  }

  /**
   * spec §8.1: cut every DATA made from now on for `mtu` (a shared stream's smallest session
   * MTU). Batches queued or under way keep their pages; only the cut of what is not yet sent
   * changes, and their Data Count follows.
   */
  setMtu(mtu: number): void {
    const chunk = this.#chunkFor(mtu);
    if (chunk === this.#chunk) return;
    this.#chunk = chunk;
    for (const b of this.#queue) {
      const sent = b.firstSeq === -1 ? 0 : seqDiff(this.#nextSeq, b.firstSeq);
      b.dataCount = sent + this.#dataLeft(b);
      if (b.record) b.record.commitSeq = seqAdd(b.firstSeq, b.dataCount);
    }
  }

  #chunkFor(mtu: number): number {
    const chunk = Math.min(this.options.pageSize, maxDataPayload(mtu, this.options.wordSize, this.options.sealed));
    if (chunk < this.options.wordSize) throw new RangeError(`MTU ${mtu} leaves no room for a word of page data`);
    return chunk;
  }

  /** DATA still to make for batch `b` at the current cut. */
  #dataLeft(b: Outgoing): number {
    if (b.pageIndex >= b.pages.length) return 0;
    const perPage = Math.ceil(this.options.pageSize / this.#chunk);
    return Math.ceil((this.options.pageSize - b.offset) / this.#chunk) + (b.pages.length - b.pageIndex - 1) * perPage;
  }

  /** Id of the last batch queued (0 before the first). */
  get lastBatchId(): number {
    return (this.#nextBatchId - 1) >>> 0;
  }

  /** spec §7.4 SENDING: a batch or a repair is still waiting to leave. */
  get sending(): boolean {
    return this.#queue.length > 0 || this.#repairs.pending;
  }

  /** DATA payload bytes the history holds now (the memory it costs). */
  get historyBytes(): number {
    return this.#historyBytes;
  }

  /** The flow controller's state (rate, phase, loss events); undefined without one. */
  get flowControl(): FlowControlState | undefined {
    return this.#fc?.state;
  }

  /** A smoothed round-trip time to the receiver (the session's HEARTBEAT echo), ms. */
  setRtt(srttMs: number): void {
    this.#fc?.setRtt(srttMs);
  }

  /** The batch being sent, if any: bytes done of total, rate and time left. */
  get progress(): SendProgress | undefined {
    const b = this.#queue[0];
    if (b === undefined) return undefined;
    const pageSize = this.options.pageSize;
    const bytesDone = b.pageIndex * pageSize + b.offset;
    const bytesTotal = b.pages.length * pageSize;
    const elapsed = b.firstSeq === -1 ? 0 : (this.options.clock.now() - b.startedAt) / 1000;
    const rate = elapsed > 0 ? bytesDone / elapsed : 0;
    const p: SendProgress = { batchId: b.batchId, full: b.full, bytesDone, bytesTotal, rate: Math.round(rate) };
    if (rate > 0) p.etaS = Math.round(((bytesTotal - bytesDone) / rate) * 10) / 10;
    return p;
  }

  /**
   * Queue pages `pages` of the source as one batch (spec §5.4). `full` marks a batch of every
   * page; `replaces` tells the receiver to drop every unapplied batch before it. Its
   * datagrams leave as pacing allows, read from the source as they go.
   */
  sendBatch(pages: readonly number[], flags: { full?: boolean; replaces?: boolean } = {}): void {
    if (pages.length === 0 || this.#closed) return;
    const batchId = this.#nextBatchId >>> 0;
    this.#nextBatchId = (this.#nextBatchId + 1) >>> 0 || 1;
    const full = flags.full ?? false;
    const replaces = flags.replaces ?? false;
    this.#queue.push({
      batchId,
      pages: [...pages],
      full,
      replaces,
      firstSeq: -1,
      pageIndex: 0,
      offset: 0,
      dataCount: pages.length * Math.ceil(this.options.pageSize / this.#chunk),
      startedAt: 0,
    });
    this.counters.batches++;
    if (full) this.counters.fullBatches++;
    if (replaces) this.counters.replaces++;
    this.#pump();
  }

  /** Send every page as one batch (join, epoch change, full RESYNC). */
  sendFull(): void {
    const all = new Array<number>(this.options.source.pageCount);
    for (let i = 0; i < all.length; i++) all[i] = i;
    this.sendBatch(all, { full: true, replaces: true });
  }

  /** Run the pump now (holdBatches turned false). */
  kick(): void {
    this.#pump();
  }

  /** Stop: no more datagrams, no timers (the session ended). */
  close(): void {
    this.#closed = true;
    this.#pumpTimer.cancel();
    this.#queue.length = 0;
    this.#repairs.clear();
  }

  /**
   * Make datagrams while the flow controller allows, at most PUMP_SLICE and PUMP_SLICE_MS
   * per run, then yield: re-arm for the next token (paced) or for the next turn (the slice
   * was used up). Repairs go first; each queued number is looked up in the history here.
   */
  #pump(): void {
    if (this.#closed || this.#pumping) return;
    this.#pumping = true;
    try {
      this.#pumpRun();
    } finally {
      this.#pumping = false;
    }
  }

  #pumpRun(): void {
    const clock = this.options.clock;
    const now = clock.now();
    const deadline = now + PUMP_SLICE_MS;
    let budget = Math.min(PUMP_SLICE, this.#fc ? this.#fc.available(now) : PUMP_SLICE);
    let made = 0;
    let looks = 0;
    let steps = 0;
    let sliceUsed = false;
    let last: number | undefined;
    const held = this.options.holdBatches?.() ?? false;
    while (made < budget) {
      // Every 16th step, whatever it did (a repair counts in both made and looks).
      if ((++steps & 15) === 0 && clock.now() > deadline) {
        sliceUsed = true;
        break;
      }
      if (this.#repairs.pending) {
        if (looks++ >= REPAIR_LOOKS) {
          sliceUsed = true;
          break;
        }
        const seq = this.#repair(now);
        if (seq === undefined) continue;
        last = seq;
        made++;
        continue;
      }
      const b = this.#queue[0];
      if (b === undefined || held) break;
      last = this.#next(b, now);
      made++;
    }
    if (made > 0) this.#fc?.onSent(now, made, last);
    if (!this.sending || (held && !this.#repairs.pending)) return;
    budget = made < PUMP_SLICE && !sliceUsed && this.#fc ? this.#fc.delayMs(clock.now()) : 0;
    this.#pumpTimer.armAt(clock.now() + budget);
  }

  /**
   * The next queued repair number: retransmit it (its seq returned) unless it was sent less
   * than the hold-off ago, fell out of the history since the NACK (a replacement answers
   * it, spec §7.7; defensive: repairs leave before new data, and only new data evicts), or
   * is cut larger than its destination takes now (spec §8.1, likewise).
   */
  #repair(now: number): number | undefined {
    const r = this.#repairs.take()!;
    const msg = this.#history.get(r.seq);
    if (msg === undefined) {
      this.#unserved(r.seq, true);
      return undefined;
    }
    if (r.route.limit !== undefined && oversized(msg, r.route.limit())) {
      if (!r.route.oversized) {
        r.route.oversized = true;
        this.counters.nackedOversized++;
        this.#unserved(r.seq, false);
      }
      return undefined;
    }
    // Sent again since the NACK came (or within the hold-off before it): that answers it, and
    // a burst of duplicate NACKs, or many receivers missing one datagram, costs one repair.
    const sentAt = this.#history.stamp(r.seq);
    if (!Number.isNaN(sentAt) && r.askedAt - sentAt < (this.options.holdOffMs ?? 20)) return undefined;
    this.#history.setStamp(r.seq, now);
    this.counters.retransmits++;
    r.route.to(msg);
    return r.seq;
  }

  /**
   * spec §7.7, §8.1: `target` was NACKed and cannot be retransmitted. Replace from it once,
   * unless a replacement that starts after it is queued, under way or still in history
   * (it covers every older number).
   */
  #unserved(target: number, lost: boolean): void {
    const replacing =
      this.#queue.some((b) => b.replaces && (b.firstSeq === -1 || seqLt(target, b.firstSeq))) ||
      (this.#replacedBefore !== undefined && this.#history.has(this.#replacedBefore) && seqLt(target, this.#replacedBefore));
    if (replacing) return;
    if (lost) this.counters.nackedTooOld++;
    this.#replaceFrom(target);
  }

  /** The next datagram of batch `b` (its COMMIT when all DATA left); returns its seq. */
  #next(b: Outgoing, now: number): number {
    const { src, dst, epoch, flow, pageSize, wordSize } = this.options;
    if (b.firstSeq === -1) {
      b.firstSeq = this.#nextSeq;
      b.startedAt = now;
      b.record = { batchId: b.batchId, firstSeq: b.firstSeq, commitSeq: seqAdd(b.firstSeq, b.dataCount), pages: b.pages };
      this.#batches.push(b.record);
      while (this.#batches.length > (this.options.batchLimit ?? 4096)) this.#batches.shift();
      if (b.replaces) this.#replacedBefore = b.firstSeq;
      this.options.onBatch?.({
        kind: 'start',
        batchId: b.batchId,
        full: b.full,
        replaces: b.replaces,
        pages: b.pages.length,
        datagrams: b.dataCount + 1,
        bytes: b.pages.length * pageSize,
      });
    }
    const seq = this.#nextSeq;
    if (b.pageIndex < b.pages.length) {
      const page = b.pages[b.pageIndex]!;
      const length = Math.min(this.#chunk, pageSize - b.offset);
      const native = this.options.source.page(page);
      const payload = this.#slabs.alloc(length); // the history holds it: one ArrayBuffer per slab, not per DATA
      toWire(native.subarray(b.offset, b.offset + length), payload, wordSize);
      this.#send({ type: 'data', src, dst, epoch, packetNumber: 0, flow, seq, batchId: b.batchId, page, offset: b.offset, payload });
      b.offset += length;
      if (b.offset >= pageSize) {
        b.offset = 0;
        b.pageIndex++;
      }
      return seq;
    }
    b.dataCount = seqDiff(seq, b.firstSeq); // exact whatever cuts setMtu chose on the way
    this.#send({
      type: 'commit',
      src,
      dst,
      epoch,
      packetNumber: 0,
      flow,
      seq,
      batchId: b.batchId,
      dataCount: b.dataCount,
      pageCount: b.pages.length,
      replaces: b.replaces,
      full: b.full,
    });
    this.#queue.shift();
    this.options.onBatch?.({
      kind: 'end',
      batchId: b.batchId,
      full: b.full,
      replaces: b.replaces,
      pages: b.pages.length,
      datagrams: b.dataCount + 1,
      bytes: b.pages.length * pageSize,
      durationMs: now - b.startedAt,
    });
    return seq;
  }

  #send(msg: DataMessage | CommitMessage): void {
    this.#nextSeq = seqAdd(this.#nextSeq, 1);
    if (this.#sentInSession < 0x7fff_ffff) this.#sentInSession++;
    this.#history.push(msg.seq, msg);
    this.#historyBytes += historyCost(msg);
    while (this.#historyBytes > this.#historyLimit && this.#history.size > 1) this.#historyBytes -= historyCost(this.#history.shift()!);
    this.counters.datagrams++;
    if (msg.type === 'data') this.counters.bytes += msg.payload.byteLength;
    this.options.emit(msg);
  }

  /**
   * spec §6.1, §7.6, §7.7: retransmit what the history holds, REPLACES what it no longer
   * does. Each range is first clipped to the sequences this session sent (spec §7.6: later
   * ones, and ones before the session's first, are ignored), then the in-history parts of all
   * ranges are merged, so the work is at most the history's length whatever the ranges say.
   * `repair` sends a retransmission (default: emit), e.g. to the one remote that NACKed a
   * unicast fan-out stream; a replacement batch always goes on the stream itself. `limit`
   * (spec §8.1): the most page bytes a DATA may carry to where `repair` sends; a held DATA cut
   * larger counts as no longer held (a replacement batch, cut at the current size, answers it).
   */
  onNack(ranges: readonly SeqRange[], repair: (msg: Datagram) => void = this.options.emit, limit?: () => number): void {
    this.counters.nacksReceived++;
    const now = this.options.clock.now();
    // Back-distances from next_seq: seq = next_seq - d, d in 1..sent. History holds d in 1..held.
    // Read once: a replacement queued below pumps at once and moves next_seq on.
    const next = this.#nextSeq;
    const { spans, oldestLostD, ignored } = nackSpans(ranges, next, this.#sentInSession, this.#history.size);
    this.counters.nackIgnored += ignored;
    if (spans.length === 0 && oldestLostD === 0) return;
    const lowestD = Math.max(oldestLostD, spans[0]?.[1] ?? 0);
    this.#fc?.onLoss(now, seqAdd(next, -lowestD));
    // Queued as spans, oldest first; the pump looks each number up as it goes (repairs.ts).
    // Before any replacement: what the history holds goes first (spec §7.6).
    const route = { to: repair, limit, oversized: false };
    for (const [lo, hi] of spans) this.counters.nackShed += this.#repairs.push(seqAdd(next, -hi), hi - lo + 1, route, now);
    if (oldestLostD > 0) this.#unserved(seqAdd(next, -oldestLostD), true);
    if (spans.length > 0) this.#pump();
  }

  /** Resend current contents of the batch holding `seq` and every later batch. */
  #replaceFrom(seq: number): void {
    const start = this.#batches.findIndex((b) => seqInRange(seq, b.firstSeq, seqDiff(b.commitSeq, b.firstSeq) + 1));
    const oldestKnown = this.#batches[0];
    if (start < 0 && (oldestKnown === undefined || seqLt(seq, oldestKnown.firstSeq))) {
      this.sendFull();
      return;
    }
    const pages = new Set<number>();
    for (const b of this.#batches.slice(Math.max(0, start))) for (const p of b.pages) pages.add(p);
    for (const b of this.#queue) if (b.firstSeq === -1) for (const p of b.pages) pages.add(p);
    if (pages.size === 0) return;
    this.sendBatch(
      [...pages].sort((a, b) => a - b),
      { replaces: true, full: pages.size === this.options.source.pageCount },
    );
  }

  /**
   * Send the requested pages again as a new batch (spec §6.4 RESYNC). Returns false, and
   * does nothing, when the datagram is invalid for this segment (spec §6.4: First Page +
   * Page Count beyond the pages, or a count of 0): it is dropped whole, never partly answered.
   * A full RESYNC while a full batch is still queued and not begun is already answered by it.
   */
  onResync(firstPage: number, pageCount: number, full: boolean): boolean {
    if (full) {
      if (this.#queue.some((b) => b.full && b.firstSeq === -1)) {
        this.counters.resyncsCoalesced++;
        return true;
      }
      this.sendFull();
      return true;
    }
    const total = this.options.source.pageCount;
    if (!Number.isInteger(firstPage) || !Number.isInteger(pageCount) || pageCount < 1 || firstPage < 0 || firstPage + pageCount > total) {
      this.counters.resyncsRefused++;
      return false;
    }
    const pages: number[] = [];
    for (let p = firstPage; p < firstPage + pageCount; p++) pages.push(p);
    this.sendBatch(pages);
    return true;
  }
}

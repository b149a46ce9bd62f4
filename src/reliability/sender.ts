/**
 * The sending side of one flow (spec/protocol.md §5, §6, §8): numbers DATA and COMMIT
 * datagrams in the flow's sequence space, keeps a bounded history for retransmission, and
 * answers NACKs.
 *
 * Timing: nothing here runs on a timer. A batch goes out when the daemon's scan finds dirty
 * pages; retransmissions go out when a NACK arrives. The only time rule is the repair
 * hold-off (spec §12): a sequence number retransmitted less than `holdOffMs` ago is not
 * sent again, so a burst of duplicate NACKs (or many receivers NACKing one loss) costs one
 * repair. The history is bounded in bytes (spec: History Bytes, 16 MiB per flow).
 *
 * When a NACK asks for a datagram that fell out of the history, the batch it belonged to
 * can never complete. The sender then resends the current contents (the latest snapshot)
 * of every page of that batch and of all later ones as one new batch flagged REPLACES:
 * the receiver drops every unapplied batch before it and applies this one, so nobody
 * waits forever (DESIGN §6b). If even the batch's page list is gone, every page is sent.
 */
import type { CommitMessage, DataMessage, FlowName, SeqRange } from '../udp/codec.js';
import { maxDataPayload } from '../udp/codec.js';
import { seqAdd, seqDiff, seqInRange, seqLt } from '../udp/serial.js';
import { toWire, type WordSize } from '../segments/word-codec.js';
import type { Clock } from './clock.js';

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
  /** Bytes of DATA payload kept for retransmission (spec: History Bytes, default 16 MiB). */
  historyBytes?: number;
  /** Batches whose page lists are kept for REPLACES (default 4096). */
  batchLimit?: number;
  /** Repair hold-off, ms (spec §12: max(SRTT, 20 ms)); default 20. */
  holdOffMs?: number;
}

interface BatchRecord {
  batchId: number;
  firstSeq: number;
  commitSeq: number;
  pages: number[];
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
}

/** What one history entry costs against History Bytes: its payload plus a header. */
function historyCost(msg: DataMessage | CommitMessage): number {
  return 40 + (msg.type === 'data' ? msg.payload.byteLength : 0);
}

export class FlowSender {
  readonly options: SenderOptions;
  readonly counters: SenderCounters = {
    batches: 0, datagrams: 0, bytes: 0, retransmits: 0, replaces: 0, fullBatches: 0, nacksReceived: 0, nackedTooOld: 0,
  };
  // spec: next_seq
  #nextSeq: number;
  #nextBatchId = 1;
  // spec: retransmit history (seq -> datagram), oldest first
  readonly #history = new Map<number, DataMessage | CommitMessage>();
  #historyBytes = 0;
  readonly #sentAt = new Map<number, number>();
  readonly #batches: BatchRecord[] = [];
  /** First seq of the latest REPLACES batch: NACKs for older seqs are covered by it. */
  #replacedBefore: number | undefined;
  readonly #chunk: number;

  constructor(options: SenderOptions) {
    this.options = options;
    this.#nextSeq = options.firstSeq >>> 0;
    this.#chunk = Math.min(options.pageSize, maxDataPayload(options.mtu, options.wordSize, options.sealed));
    if (this.#chunk < options.wordSize) throw new RangeError(`MTU ${options.mtu} leaves no room for a word of page data`);
  }

  /** spec: highest_seq_sent (the heartbeat's value); firstSeq - 1 before anything was sent. */
  get highestSeq(): number {
    return seqAdd(this.#nextSeq, -1);
  }

  /** Id of the last batch sent (0 before the first). */
  get lastBatchId(): number {
    return (this.#nextBatchId - 1) >>> 0;
  }

  /**
   * Send pages `pages` of the source as one batch (spec §5.4). `full` marks a batch of every
   * page; `replaces` tells the receiver to drop every unapplied batch before it.
   */
  sendBatch(pages: readonly number[], flags: { full?: boolean; replaces?: boolean } = {}): void {
    if (pages.length === 0) return;
    const { src, dst, epoch, flow, pageSize, wordSize } = this.options;
    const batchId = this.#nextBatchId >>> 0;
    this.#nextBatchId = (this.#nextBatchId + 1) >>> 0 || 1;
    const firstSeq = this.#nextSeq;
    let dataCount = 0;
    for (const page of pages) {
      const native = this.options.source.page(page);
      for (let offset = 0; offset < pageSize; offset += this.#chunk) {
        const length = Math.min(this.#chunk, pageSize - offset);
        const payload = Buffer.allocUnsafe(length);
        toWire(native.subarray(offset, offset + length), payload, wordSize);
        this.#send({ type: 'data', src, dst, epoch, packetNumber: 0, flow, seq: this.#nextSeq, batchId, page, offset, payload });
        dataCount++;
      }
    }
    const full = flags.full ?? false;
    const replaces = flags.replaces ?? false;
    const commitSeq = this.#nextSeq;
    this.#send({ type: 'commit', src, dst, epoch, packetNumber: 0, flow, seq: commitSeq, batchId, dataCount, pageCount: pages.length, replaces, full });
    this.#batches.push({ batchId, firstSeq, commitSeq, pages: [...pages] });
    while (this.#batches.length > (this.options.batchLimit ?? 4096)) this.#batches.shift();
    this.counters.batches++;
    if (full) this.counters.fullBatches++;
    if (replaces) {
      this.counters.replaces++;
      this.#replacedBefore = firstSeq;
    }
  }

  /** Send every page as one batch (join, epoch change, full RESYNC). */
  sendFull(): void {
    const all = Array.from({ length: this.options.source.pageCount }, (_, i) => i);
    this.sendBatch(all, { full: true, replaces: true });
  }

  #send(msg: DataMessage | CommitMessage): void {
    this.#nextSeq = seqAdd(this.#nextSeq, 1);
    this.#history.set(msg.seq, msg);
    this.#historyBytes += historyCost(msg);
    const limit = this.options.historyBytes ?? 16 * 1024 * 1024;
    while (this.#historyBytes > limit && this.#history.size > 1) {
      const oldest = this.#history.keys().next().value as number;
      this.#historyBytes -= historyCost(this.#history.get(oldest)!);
      this.#history.delete(oldest);
      this.#sentAt.delete(oldest);
    }
    this.counters.datagrams++;
    if (msg.type === 'data') this.counters.bytes += msg.payload.byteLength;
    this.options.emit(msg);
  }

  /**
   * spec §6.1: retransmit what the history holds; REPLACES what it no longer does.
   * `repair` sends a retransmission (default: emit), e.g. to the one remote that NACKed a
   * unicast fan-out stream; a replacement batch always goes on the stream itself.
   */
  onNack(ranges: readonly SeqRange[], repair: (msg: DataMessage | CommitMessage) => void = this.options.emit): void {
    this.counters.nacksReceived++;
    const now = this.options.clock.now();
    const holdOff = this.options.holdOffMs ?? 20;
    // spec §7.7: while the latest replacement is still in history, older NACKs are covered.
    const replacing = this.#replacedBefore !== undefined && this.#history.has(this.#replacedBefore);
    let oldestLost: number | undefined;
    for (const range of ranges) {
      for (let i = 0; i < range.count; i++) {
        const seq = seqAdd(range.first, i);
        // Only seqs this sender has used can be repaired; later ones are a confused peer.
        if (!seqLt(seq, this.#nextSeq)) break;
        if (replacing && seqLt(seq, this.#replacedBefore!)) continue;
        const msg = this.#history.get(seq);
        if (msg === undefined) {
          if (oldestLost === undefined || seqLt(seq, oldestLost)) oldestLost = seq;
          continue;
        }
        const last = this.#sentAt.get(seq);
        if (last !== undefined && now - last < holdOff) continue;
        this.#sentAt.set(seq, now);
        this.counters.retransmits++;
        repair(msg);
      }
    }
    if (oldestLost !== undefined) {
      this.counters.nackedTooOld++;
      this.#replaceFrom(oldestLost);
    }
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
    if (pages.size === 0) return;
    this.sendBatch([...pages].sort((a, b) => a - b), { replaces: true });
  }

  /** Send the requested pages again as a new batch (spec §6.4 RESYNC). */
  onResync(firstPage: number, pageCount: number, full: boolean): void {
    if (full) {
      this.sendFull();
      return;
    }
    const last = Math.min(this.options.source.pageCount, firstPage + pageCount);
    const pages: number[] = [];
    for (let p = firstPage; p < last; p++) pages.push(p);
    this.sendBatch(pages);
  }
}

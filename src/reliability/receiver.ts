/**
 * The receiving side of one flow (spec/protocol.md §5.4, §6, §8): puts DATA and COMMIT
 * back in sequence order, applies each batch whole, NACKs gaps, and asks for repairs.
 *
 * Timing (spec §12): a gap is NACKed `nackDelayMs` (10 ms) after it is first seen, so
 * plain reordering heals without a NACK; then again after `nackRetryMs` (50 ms), doubling
 * each time up to `nackMaxMs` (2 s) while it stays open. An applied batch resets the
 * back-off to the NACK delay, a repair that fills part of a gap to the retry interval: the
 * back-off is for a sender that does not answer, not for one that answers under loss. The gap may be seen from a later datagram or
 * from a heartbeat's highest sequence (a lost tail). One Deadline timer per receiver,
 * armed only while a gap is open, so an idle flow costs no wake-ups.
 *
 * Batch atomicity (spec §5.4): a batch is DATA seq c-dataCount .. c-1 closed by COMMIT c.
 * It is applied only when all of it is here and every earlier batch was applied, except a
 * REPLACES batch, which is applied as soon as it is whole and makes every unapplied batch
 * before it obsolete. `apply` receives the whole batch at once; the daemon wraps it in the
 * ST generation so no reader sees half of it.
 */
import type { CommitMessage, DataMessage, FlowName, SeqRange, SegmentGeometry } from '../udp/codec.js';
import { checkDataAgainstSegment } from '../udp/codec.js';
import { MAX_NACK_RANGES } from '../udp/constants.js';
import { seqAdd, seqDiff, seqGt, seqLt } from '../udp/serial.js';
import { BatchAssembly } from './batch-assembly.js';
import { Deadline, type Clock } from './clock.js';
import { Slabs } from './slab.js';

export interface ReceivedBatch {
  batchId: number;
  /** The DATA of the batch in sequence order (payloads in the network-neutral form). */
  data: DataMessage[];
  full: boolean;
  replaces: boolean;
}

export interface ReceiverOptions {
  flow: FlowName;
  geometry: SegmentGeometry;
  /** Sequence number of the first datagram expected (from the handshake). */
  firstSeq: number;
  clock: Clock;
  /** Apply a whole batch (the daemon writes it into the segment inside the ST generation). */
  apply(batch: ReceivedBatch): void;
  sendNack(ranges: SeqRange[]): void;
  /** A DATA or COMMIT was held (progress: the daemon notes when a full batch begins). */
  onHeld?(): void;
  /** Ask the sender for pages again (spec §6.4 RESYNC); `full` for every page. */
  requestResync(firstPage: number, pageCount: number, full: boolean): void;
  /** spec §12: NACK Delay 10 ms, NACK Retry 50 ms, NACK Max 2000 ms. */
  nackDelayMs?: number;
  /** spec §8.2: for multicast, a fresh random delay before each NACK instead of nackDelayMs. */
  nackBackoff?: () => number;
  nackRetryMs?: number;
  nackMaxMs?: number;
  /**
   * Memory bound: most datagrams held ahead of the apply point; later ones are dropped and
   * NACKed later (spec §7.3). It must hold the largest batch (a full one) whole, or that
   * batch could never complete: default windowFor(geometry, 1200).
   */
  window?: number;
}

export interface ReceiverCounters {
  datagrams: number;
  /** DIGESTs dropped whole: pages beyond the segment (spec §6.3). */
  digestsRefused: number;
  /** HEARTBEAT Highest Seq values clipped to the window (spec §6.2, §7.3). */
  highestClipped: number;
  duplicates: number;
  outOfWindow: number;
  invalid: number;
  batchesApplied: number;
  batchesDropped: number;
  nacksSent: number;
  resyncsSent: number;
  /** Page bytes applied. */
  bytes: number;
}

/** Most held datagrams one #deliver call moves past the apply point before it yields. */
export const DELIVER_SLICE = 8192;
/** Most sequence numbers one NACK looks at, from scan_pos on. */
export const NACK_SCAN = 32_768;

export class FlowReceiver {
  readonly options: ReceiverOptions;
  readonly counters: ReceiverCounters = {
    datagrams: 0,
    digestsRefused: 0,
    highestClipped: 0,
    duplicates: 0,
    outOfWindow: 0,
    invalid: 0,
    batchesApplied: 0,
    batchesDropped: 0,
    nacksSent: 0,
    resyncsSent: 0,
    bytes: 0,
  };
  // spec: next_expected (every seq before it is applied or obsolete)
  #expected: number;
  // spec: highest_seq_seen
  #highest: number;
  /** Datagrams at or after scan_pos, by seq. */
  readonly #held = new Map<number, DataMessage | CommitMessage>();
  // spec: scan_pos (first seq at or after next_expected not yet known to be held)
  #scanPos: number;
  /** The DATA in [next_expected, scan_pos), checked as they were passed (batch-assembly.ts). */
  readonly #assembly: BatchAssembly;
  readonly #nackTimer: Deadline;
  #nackBackoff: number;
  #lastAppliedBatch = 0;
  /** The latest REPLACES COMMIT held but not yet applied, and its first seq not yet seen held. */
  #replace: CommitMessage | undefined;
  #replaceScan = 0;
  readonly #window: number;
  /** Page bytes held (staged) and not yet applied: the staging memory. */
  #heldBytes = 0;
  /** The first batch of a session is FULL (spec §7.1): its size is known before its COMMIT. */
  #firstBatchDone = false;
  /** Where held payloads are copied (#hold). */
  readonly #slabs = new Slabs();
  /** Continues a #deliver walk that stopped after DELIVER_SLICE datagrams. */
  readonly #deliverTimer: Deadline;

  constructor(options: ReceiverOptions) {
    this.options = options;
    this.#expected = options.firstSeq >>> 0;
    this.#highest = seqAdd(this.#expected, -1);
    this.#scanPos = this.#expected;
    this.#nackBackoff = options.nackDelayMs ?? (options.nackBackoff ? 0 : 10);
    this.#nackTimer = new Deadline(options.clock, () => this.#sendNack());
    this.#deliverTimer = new Deadline(options.clock, () => this.#deliver());
    this.#window = options.window ?? windowFor(options.geometry, 1200);
    this.#assembly = new BatchAssembly(options.geometry.pageSize, options.geometry.pageCount);
  }

  /** Datagrams this receiver holds at most ahead of its apply point. */
  get window(): number {
    return this.#window;
  }

  /** Page bytes held and not yet applied (the staging memory of this flow). */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * The session's first batch (FULL, spec §7.1) while it arrives: page bytes held of the
   * segment's total. Undefined once it was applied.
   */
  get joinProgress(): { bytesDone: number; bytesTotal: number } | undefined {
    if (this.#firstBatchDone) return undefined;
    const g = this.options.geometry;
    return { bytesDone: Math.min(this.#heldBytes, g.pageCount * g.pageSize), bytesTotal: g.pageCount * g.pageSize };
  }

  get expected(): number {
    return this.#expected;
  }

  get highestSeen(): number {
    return this.#highest;
  }

  /** Id of the last batch applied (0 before the first). */
  get lastAppliedBatch(): number {
    return this.#lastAppliedBatch;
  }

  /** True when nothing is held or missing: the receiver has applied all it has heard of. */
  get idle(): boolean {
    return this.#held.size === 0 && this.#assembly.length === 0 && seqAdd(this.#highest, 1) === this.#expected;
  }

  /** Datagrams held or missing: what stands between the segment and the sender's state. */
  get pending(): number {
    return this.#held.size + this.#assembly.length + this.missing;
  }

  /** Datagrams still missing between next_expected and highest_seq_seen. */
  get missing(): number {
    return Math.max(0, seqDiff(this.#highest, this.#expected) + 1 - this.#held.size - this.#assembly.length);
  }

  /** DATA or COMMIT of this flow: 'ok' when held, else why it was dropped (and counted). */
  onDatagram(msg: DataMessage | CommitMessage): 'ok' | 'duplicate' | 'invalid' | 'window' {
    if (msg.type === 'data' && checkDataAgainstSegment(msg, this.options.geometry) !== null) {
      this.counters.invalid++;
      return 'invalid';
    }
    const ahead = seqDiff(msg.seq, this.#expected);
    // Before scan_pos everything is held already (in the assembly), so a datagram there is a duplicate.
    if (seqLt(msg.seq, this.#scanPos) || this.#held.has(msg.seq)) {
      this.counters.duplicates++;
      return 'duplicate';
    }
    if (ahead >= this.#window) {
      // Beyond the memory bound: drop it; it is NACKed once the apply point gets near.
      this.counters.outOfWindow++;
      return 'window';
    }
    this.counters.datagrams++;
    this.#hold(msg);
    this.options.onHeld?.();
    if (seqGt(msg.seq, this.#highest)) this.#highest = msg.seq;
    else if (this.#nackBackoff > (this.options.nackRetryMs ?? 50)) {
      // A repair (or a late datagram) filled part of a gap: the sender is answering, so ask
      // for the rest at the short retry again instead of after a backed-off wait.
      this.#nackBackoff = this.options.nackRetryMs ?? 50;
      this.#nackTimer.cancel();
    }
    // A REPLACES batch may complete out of order (its COMMIT before some of its DATA):
    // remember the latest one and try it on every arrival until it is applied.
    if (msg.type === 'commit' && msg.replaces && (this.#replace === undefined || seqGt(msg.seq, this.#replace.seq))) {
      this.#replace = msg;
      this.#replaceScan = 0;
    }
    if (this.#replace !== undefined) {
      if (seqLt(this.#replace.seq, this.#expected)) this.#replace = undefined;
      else this.#tryReplace(this.#replace);
    }
    this.#deliver();
    return 'ok';
  }

  /** spec §6.2: the sender's highest sequence; reveals a lost tail. */
  onHighestSeq(seq: number): void {
    // A number beyond the serial window is a confused or hostile peer: ignore it. One
    // beyond the window is clipped to it (spec §7.3): the receiver would drop those
    // datagrams anyway, and NACKs only what it could hold, so the work stays bounded.
    const ahead = seqDiff(seq, this.#expected);
    if (ahead >= 0x4000_0000) return;
    if (ahead >= this.#window) {
      this.counters.highestClipped++;
      seq = seqAdd(this.#expected, this.#window - 1);
    }
    if (seqGt(seq, this.#highest)) {
      this.#highest = seq;
      this.#armNack();
    }
  }

  /** Stop timers (the session ended). */
  close(): void {
    this.#nackTimer.cancel();
    this.#deliverTimer.cancel();
    this.#held.clear();
    this.#assembly.take();
    this.#heldBytes = 0;
    this.#slabs.release();
  }

  #hold(msg: DataMessage | CommitMessage): void {
    if (msg.type === 'data') {
      // A copy in a slab: the decoded payload is a view of its whole datagram, one
      // ArrayBuffer each, which would stay alive as long as the DATA is held (slab.ts).
      msg.payload = this.#slabs.copy(msg.payload);
      this.#heldBytes += msg.payload.byteLength;
    }
    this.#held.set(msg.seq, msg);
  }

  /**
   * Apply batches in order while the next one is whole. spec: every seq in
   * [next_expected, scan_pos) is held DATA, so each arrival is looked at once. At most
   * DELIVER_SLICE datagrams per call: when a repair fills the gap in front of a long held
   * run (a cold join's full batch is 65,536 DATA at 64 MiB, 262,144 at 256 MiB), the walk
   * goes on in later turns instead of holding this one (issue 12). Between calls the state
   * is the spec's: scan_pos simply stands where the walk stopped.
   */
  #deliver(): void {
    let progressed = false;
    let walked = 0;
    for (let msg = this.#held.get(this.#scanPos); msg !== undefined; msg = this.#held.get(this.#scanPos)) {
      if (walked++ >= DELIVER_SLICE) {
        this.#deliverTimer.armAt(this.options.clock.now());
        break;
      }
      this.#held.delete(msg.seq);
      if (msg.type === 'data') this.#assembly.add(msg);
      else {
        const first = seqAdd(msg.seq, -msg.dataCount);
        if (first !== this.#expected) {
          // The batch began before next_expected (its start was made obsolete): drop it.
          this.#heldBytes -= this.#assembly.bytes;
          this.#assembly.take();
          this.counters.batchesDropped++;
        } else {
          this.#applyBatch(msg);
        }
        this.#expected = seqAdd(msg.seq, 1);
        progressed = true;
      }
      this.#scanPos = seqAdd(this.#scanPos, 1);
    }
    if (progressed) {
      this.#nackBackoff = this.options.nackDelayMs ?? (this.options.nackBackoff ? 0 : 10);
      // The wait starts over (a multicast one with a fresh draw: #armNack keeps a running one).
      if (this.options.nackBackoff) this.#nackTimer.cancel();
    }
    if (this.missing > 0) this.#armNack();
    else this.#nackTimer.cancel();
  }

  /** A whole REPLACES batch is applied at once; everything unapplied before it is obsolete. */
  #tryReplace(commit: CommitMessage): void {
    const first = seqAdd(commit.seq, -commit.dataCount);
    if (seqLt(first, this.#expected)) return; // overlaps what was applied: cannot be whole
    // Starting at the apply point, nothing before it is obsolete: #deliver applies it in
    // order as it completes. Scanning for it here too walked every held DATA once more (a
    // cold join's full batch, 262 144 at 256 MiB, in the one turn a repair filled a gap).
    if (first === this.#expected) return;
    // Held entries only go away when applied or dropped, so the scan resumes where it
    // stopped: each arrival costs O(1) amortised, not O(batch) (a full batch is 262k DATA).
    const here = (s: number): boolean => seqLt(s, this.#scanPos) || this.#held.has(s);
    while (this.#replaceScan < commit.dataCount && here(seqAdd(first, this.#replaceScan))) this.#replaceScan++;
    if (this.#replaceScan < commit.dataCount) return;
    const obsolete = seqDiff(first, this.#expected);
    if (obsolete > 0) {
      // What the assembly holds before `first` is obsolete; from `first` on it is the
      // REPLACES batch's own start, assembled again from its first DATA.
      const before = this.#assembly.bytes;
      for (const d of this.#assembly.takeFrom(obsolete)) this.#assembly.add(d);
      this.#heldBytes -= before - this.#assembly.bytes;
      if (seqGt(first, this.#scanPos)) {
        this.#drop(this.#scanPos, seqAdd(first, -1));
        this.#scanPos = first;
      }
      this.counters.batchesDropped++;
    }
    this.#expected = first;
  }

  #drop(from: number, to: number): void {
    for (let s = from; ; s = seqAdd(s, 1)) {
      const m = this.#held.get(s);
      if (m !== undefined) {
        if (m.type === 'data') this.#heldBytes -= m.payload.byteLength;
        this.#held.delete(s);
      }
      if (s === to) break;
    }
  }

  /** The COMMIT closing the assembly (every DATA from the apply point on): apply it or refuse it whole. */
  #applyBatch(commit: CommitMessage): void {
    const bytes = this.#assembly.bytes;
    this.#heldBytes -= bytes;
    this.#firstBatchDone = true;
    if (this.#assembly.verdict(commit) !== 'ok') {
      // The sender broke the batch rules (spec §7.3): apply nothing, ask for its pages
      // (DATA of another batch id spoil the batch, but their pages, checked against the
      // segment on arrival, are still the pages to ask for again).
      const pages = this.#assembly.pages();
      this.#assembly.take();
      this.counters.invalid++;
      this.counters.batchesDropped++;
      if (pages.length === 0) this.#resync(0, 0, true);
      else for (const [first, count] of runs(pages)) this.#resync(first, count, false);
      return;
    }
    const data = this.#assembly.take();
    this.options.apply({ batchId: commit.batchId, data, full: commit.full, replaces: commit.replaces });
    this.#lastAppliedBatch = commit.batchId;
    this.counters.batchesApplied++;
    this.counters.bytes += bytes;
  }

  #resync(firstPage: number, pageCount: number, full: boolean): void {
    this.counters.resyncsSent++;
    this.options.requestResync(firstPage, pageCount, full);
  }

  /**
   * spec §7.8 DIGEST: compare the sender's hashes of pages firstPage.. with `localHash` of
   * ours, only when our last applied batch is the one the digest names and nothing is
   * pending; RESYNC each run of differing pages. Returns the pages that differed.
   */
  onDigest(batchId: number, firstPage: number, hashes: BigUint64Array, localHash: (page: number) => bigint): number[] {
    const pageCount = this.options.geometry.pageCount;
    // spec §6.3: First Page + Hash Count beyond the segment makes the datagram invalid:
    // dropped whole, never partly compared.
    if (!Number.isInteger(firstPage) || firstPage < 0 || hashes.length === 0 || firstPage + hashes.length > pageCount) {
      this.counters.digestsRefused++;
      return [];
    }
    if (batchId !== this.#lastAppliedBatch || !this.idle) return [];
    const differ: number[] = [];
    for (let i = 0; i < hashes.length; i++) {
      if (localHash(firstPage + i) !== hashes[i]) differ.push(firstPage + i);
    }
    for (const [first, count] of runs(differ)) this.#resync(first, count, false);
    return differ;
  }

  #armNack(): void {
    // spec §8.2: one random multicast delay per wait, drawn when it begins. Drawing again on
    // every arrival while the timer runs would NACK at the earliest of many draws, so the
    // receivers of a group would no longer spread out and suppress each other's NACKs.
    if (this.options.nackBackoff && this.#nackTimer.armed) return;
    const random = this.options.nackBackoff?.() ?? 0;
    this.#nackTimer.armAt(this.options.clock.now() + this.#nackBackoff + random);
  }

  /** Send the open gaps as at most MAX_NACK_RANGES ranges, then back off. */
  #sendNack(): void {
    const ranges: SeqRange[] = [];
    let s = this.#scanPos;
    // Bounded by the window: onHighestSeq and onDatagram never let highest pass it. Every
    // held datagram is in the span (at or after scan_pos, at most highest), so once all of
    // them were passed the rest of the span is one gap (a lost tail costs no lookups). The
    // lookups are bounded by NACK_SCAN too: scan_pos is the first gap, so the front one is
    // always found; gaps further on are NACKed in a later round, once the front moved
    // (issue 12: a 256 MiB flow's window is 524,288 lookups in one timer callback).
    const span = Math.min(seqDiff(this.#highest, this.#scanPos) + 1, this.#window);
    const heldCount = this.#held.size;
    let passed = 0;
    let open: SeqRange | undefined;
    for (let i = 0; i < span && ranges.length <= MAX_NACK_RANGES; i++, s = seqAdd(s, 1)) {
      if (passed === heldCount) {
        // No range is open here: the last held one passed closed it (or none was held).
        ranges.push({ first: s, count: span - i });
        break;
      }
      if (i >= NACK_SCAN) break;
      if (this.#held.has(s)) {
        passed++;
        open = undefined;
        continue;
      }
      if (open) open.count++;
      else {
        open = { first: s, count: 1 };
        ranges.push(open);
      }
    }
    if (ranges.length > MAX_NACK_RANGES) ranges.length = MAX_NACK_RANGES;
    if (ranges.length === 0) return;
    this.counters.nacksSent++;
    this.options.sendNack(ranges);
    const retry = this.options.nackRetryMs ?? 50;
    this.#nackBackoff = Math.min(Math.max(retry, this.#nackBackoff * 2), this.options.nackMaxMs ?? 2000);
    this.#armNack();
  }
}

/**
 * Datagrams a receiver must be able to hold for a flow of this geometry: a full batch (every
 * page in chunks of what an MTU of `mtu` carries, plus its COMMIT) twice over (a replacement
 * may start before the batch it replaces was dropped), at least 65 536.
 */
export function windowFor(geometry: SegmentGeometry, mtu: number): number {
  const chunk = Math.max(geometry.wordSize, Math.min(geometry.pageSize, mtu - 64));
  const full = geometry.pageCount * Math.ceil(geometry.pageSize / chunk) + 1;
  return Math.min(0x4000_0000, Math.max(65_536, 2 * full));
}

/** Runs of consecutive numbers in `pages` (sorted here) as [first, count]. */
export function runs(pages: number[]): [number, number][] {
  const sorted = [...pages].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const p of sorted) {
    const last = out.at(-1);
    if (last && last[0] + last[1] === p) last[1]++;
    else if (!last || last[0] + last[1] < p) out.push([p, 1]);
  }
  return out;
}

/**
 * spec §8.2: the multicast NACK delay, T = (Tmax/λ)·ln(1 + u·(e^λ − 1)), λ = ln(N) + 1, a
 * truncated exponential in [0, Tmax) (RFC 5740 NORM, Aeron): most receivers draw a late
 * time, so the first NACK's repair suppresses the others.
 */
export function multicastNackDelay(tMaxMs: number, groupSize: number, u: number = Math.random()): number {
  const lambda = Math.log(Math.max(1, groupSize)) + 1;
  return (tMaxMs / lambda) * Math.log(1 + u * (Math.exp(lambda) - 1));
}

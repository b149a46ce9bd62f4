/**
 * NACK repair for a sender (spec §6.1, §7.6): what a NACK asks for, clipped to what this
 * session sent, and the queue of repairs still to send.
 *
 * Bounded work per NACK (issue 12): a NACK costs O(its ranges), never O(what they cover).
 * Its ranges become a few spans of sequence numbers in the queue; the sender's pump walks
 * them a number at a time, in the same bounded slices as new data (sender.ts PUMP_SLICE,
 * PUMP_SLICE_MS), looking each one up in the history as it goes. Walking a NACK for a lost
 * burst of 65,536 datagrams inside the NACK's own datagram callback held the master's loop
 * for 40-60 ms of CPU in a 64 MiB cold join.
 *
 * No I/O, no timers.
 */
import type { CommitMessage, DataMessage, SeqRange } from '../udp/codec.js';
import { seqAdd, seqDiff } from '../udp/serial.js';

export type Datagram = DataMessage | CommitMessage;

/**
 * Where the repairs of one NACK go, and the most page bytes a DATA may carry there (spec
 * §8.1). `oversized`: this NACK already counted (and answered) a held DATA too large for it.
 */
export interface RepairRoute {
  to: (msg: Datagram) => void;
  limit: (() => number) | undefined;
  oversized: boolean;
}

/** What a NACK asks of a sender, in back-distances d from next_seq (seq = next_seq - d). */
export interface NackSpans {
  /** Disjoint [lo, hi] back-distance spans the history holds, oldest (largest hi) first. */
  spans: [number, number][];
  /** Largest d asked for that the history no longer holds (0: none). */
  oldestLostD: number;
  /** Ranges ignored whole: not sent yet, or wholly before the session's first (spec §7.6). */
  ignored: number;
}

/**
 * spec §6.1, §7.6: clip each range to the `sent` numbers of this session before next_seq,
 * split it into what the history (its newest `held` numbers) holds and what it lost, and
 * merge the held parts. O(ranges log ranges) whatever the counts say.
 */
export function nackSpans(ranges: readonly SeqRange[], nextSeq: number, sent: number, held: number): NackSpans {
  const raw: [number, number][] = [];
  let oldestLostD = 0;
  let ignored = 0;
  for (const range of ranges) {
    const count = Math.min(range.count >>> 0, 0x7fff_ffff);
    let d = seqDiff(nextSeq, range.first >>> 0);
    if (d <= 0 || count === 0) {
      ignored++; // not sent yet: a confused peer
      continue;
    }
    let c = count;
    if (d > sent) {
      // spec §7.6: numbers before the session's first were never sent in it.
      const before = d - sent;
      if (c <= before) {
        ignored++;
        continue;
      }
      c -= before;
      d = sent;
    }
    const end = Math.max(0, d - c); // the range covers d .. end+1
    if (d > held) oldestLostD = Math.max(oldestLostD, d);
    const hi = Math.min(d, held);
    if (hi > end) raw.push([end + 1, hi]);
  }
  // Oldest first, merged, so each number is queued once per NACK.
  raw.sort((a, b) => b[1] - a[1]);
  const spans: [number, number][] = [];
  for (const [lo, hi] of raw) {
    const last = spans.at(-1);
    if (last !== undefined && hi >= last[0] - 1) last[0] = Math.min(last[0], lo);
    else spans.push([lo, hi]);
  }
  return { spans, oldestLostD, ignored };
}

interface Job {
  /** Next sequence number to repair, and how many are left from it. */
  seq: number;
  left: number;
  route: RepairRoute;
  /** When the NACK that asked arrived (the sender's clock, ms). */
  askedAt: number;
}

/**
 * One repair to make: a sequence number, its NACK's route, and when that NACK arrived: a
 * retransmission of the number sent after then (less the hold-off) already answers it.
 */
export interface Repair {
  seq: number;
  route: RepairRoute;
  askedAt: number;
}

/**
 * Spans of sequence numbers still to repair, oldest NACK first, at most `cap` numbers in all:
 * a peer that NACKs faster than repairs leave (a flood, or a receiver re-asking while a long
 * repair is paced out) cannot grow it without bound; what does not fit is shed, and the
 * receiver asks again for what is still missing.
 */
export class RepairQueue {
  readonly #cap: () => number;
  #jobs: Job[] = [];
  #head = 0;
  #queued = 0;

  constructor(cap: () => number) {
    this.#cap = cap;
  }

  /** Repair `count` numbers from `firstSeq` on, through `route`; returns how many were shed. */
  push(firstSeq: number, count: number, route: RepairRoute, askedAt: number): number {
    const room = Math.max(0, this.#cap() - this.#queued);
    const take = Math.min(count, room);
    if (take > 0) {
      this.#jobs.push({ seq: firstSeq >>> 0, left: take, route, askedAt });
      this.#queued += take;
    }
    return Math.max(0, count - take);
  }

  get pending(): boolean {
    return this.#head < this.#jobs.length;
  }

  /** Numbers still queued (for status and tests). */
  get length(): number {
    return this.#queued;
  }

  /** The next number to repair, or undefined when none is left. */
  take(): Repair | undefined {
    const job = this.#jobs[this.#head];
    if (job === undefined) return undefined;
    const seq = job.seq;
    job.seq = seqAdd(job.seq, 1);
    this.#queued--;
    if (--job.left === 0) {
      this.#jobs[this.#head++] = undefined as never;
      if (this.#head === this.#jobs.length) this.clear();
    }
    return { seq, route: job.route, askedAt: job.askedAt };
  }

  clear(): void {
    this.#jobs = [];
    this.#head = 0;
    this.#queued = 0;
  }
}

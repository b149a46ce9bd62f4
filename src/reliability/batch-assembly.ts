/**
 * The DATA of the batch under way at a receiver's apply point, checked as they arrive
 * (spec §5.3, §7.3), so that closing a batch of any size costs O(1): no walk over its
 * 262 144 DATA (a full batch of 256 MiB) in the one event-loop turn its COMMIT arrives in.
 *
 * The receiver hands over every DATA in sequence order from the apply point (each one
 * once, as its scan position passes it); the assembly keeps them in order and tracks, per
 * DATA, what the batch rules need at the COMMIT:
 * - one Batch Id for all of them;
 * - each page's ranges consecutive from offset 0 to page_size, each page exactly once
 *   (a page seen again later in the batch breaks the rule): a stamp per page of the segment
 *   (4 bytes a page, allocated on first use) marks the pages of the current batch, so the
 *   check needs neither a Set nor a clearing pass;
 * - the count of distinct pages and the page bytes.
 *
 * No I/O, no timers.
 */
import type { CommitMessage, DataMessage } from '../udp/codec.js';

export type Verdict = 'ok' | 'invalid';

export class BatchAssembly {
  readonly #pageSize: number;
  readonly #pageCount: number;
  #data: DataMessage[] = [];
  #stamps: Uint32Array | undefined;
  /** The stamp of the batch under way (the first is 1: a fresh stamp array is all 0). */
  #stamp = 1;
  #batchId = 0;
  #sameId = true;
  #covers = true;
  #page = -1;
  #next = 0;
  #pages = 0;
  #bytes = 0;

  constructor(pageSize: number, pageCount: number) {
    this.#pageSize = pageSize;
    this.#pageCount = pageCount;
  }

  /** DATA assembled so far. */
  get length(): number {
    return this.#data.length;
  }

  /** Page bytes assembled so far (staged, not applied). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The next DATA in sequence order after the last one added. */
  add(d: DataMessage): void {
    if (this.#data.length === 0) this.#batchId = d.batchId;
    else if (d.batchId !== this.#batchId) this.#sameId = false;
    this.#data.push(d);
    this.#bytes += d.payload.byteLength;
    if (d.page !== this.#page) {
      if (this.#page !== -1 && this.#next !== this.#pageSize) this.#covers = false;
      this.#enterPage(d.page);
    }
    if (d.offset !== this.#next) this.#covers = false;
    this.#next += d.payload.byteLength;
  }

  /** spec §7.3: may the assembled DATA, closed by `commit`, be applied? */
  verdict(commit: CommitMessage): Verdict {
    const ids = this.#sameId && (this.#data.length === 0 || this.#batchId === commit.batchId);
    const covered = this.#covers && this.#page !== -1 && this.#next === this.#pageSize;
    return ids && covered && this.#pages === commit.pageCount ? 'ok' : 'invalid';
  }

  /** The assembled DATA, in order; the assembly starts over empty. */
  take(): DataMessage[] {
    const data = this.#data;
    this.#begin();
    return data;
  }

  /** The distinct pages of the assembled DATA (for a RESYNC of a broken batch). */
  pages(): number[] {
    return [...new Set(this.#data.map((d) => d.page))];
  }

  /** The DATA from `seq`'s index on (those of a REPLACES batch that starts inside), then empty. */
  takeFrom(index: number): DataMessage[] {
    const tail = this.#data.slice(Math.max(0, index));
    this.#begin();
    return tail;
  }

  #begin(): void {
    this.#data = [];
    this.#sameId = true;
    this.#covers = true;
    this.#page = -1;
    this.#next = 0;
    this.#pages = 0;
    this.#bytes = 0;
    this.#nextStamp();
  }

  /** A stamp no page carries yet; after 2^32 - 1 batches the stamps start over from a cleared array. */
  #nextStamp(): void {
    this.#stamp++;
    if (this.#stamp === 0x1_0000_0000) {
      this.#stamps?.fill(0);
      this.#stamp = 1;
    }
  }

  #enterPage(page: number): void {
    this.#page = page;
    this.#next = 0;
    // DATA were checked against the segment on arrival: 0 <= page < pageCount.
    const stamps = (this.#stamps ??= new Uint32Array(this.#pageCount));
    if (stamps[page] === this.#stamp)
      this.#covers = false; // the page again: covered twice
    else {
      stamps[page] = this.#stamp;
      this.#pages++;
    }
  }
}

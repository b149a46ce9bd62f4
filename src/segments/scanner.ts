/**
 * The page scanner: which pages of a flow's region changed since the last scan.
 *
 * One scan is one pass over the live region, hashing every page in place (XXH64, native
 * addon) and comparing with the hash of what was last sent. Each page that differs is then
 * copied into a private snapshot and hashed again from the copy, and that copy is what the
 * sender reads and that hash is what the next scan compares with: the bytes hashed and the
 * bytes sent are always the same version (DESIGN §6b), and one scan's dirty pages form one
 * batch. Only changed pages are copied, so an idle region costs one hashing read.
 *
 * When the flow's writers use the ST generation (DESIGN §3b), the whole pass (hash, then
 * copy) must run while the generation is even and unchanged; otherwise it is retried for a
 * few milliseconds and then reported `busy`, and the next interval tries again. A writer
 * mid-update can therefore never leave half of its pages in a batch. Applications that
 * never touch the generation lose nothing.
 */
import { native } from './native.js';

/** Seed of the scanner's local change-detection hash (never on the wire). */
const SCAN_SEED = 0n;
/**
 * How long one scan keeps trying for a stable pass while writers hold the generation odd
 * or move it. A writer that updates in a tight loop leaves only short even windows; a few
 * milliseconds of retries catch one without stalling the daemon.
 */
const SNAPSHOT_BUDGET_MS = 5;
const SNAPSHOT_MAX_TRIES = 100_000;

export interface ScanResult {
  /** Page indexes whose content changed, ascending. */
  dirty: number[];
  /** The snapshot the dirty pages must be read from (valid until the next scan). */
  snapshot: Buffer;
}

export class PageScanner {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly #live: Buffer;
  readonly #snapshot: Buffer;
  /** Hash of each page as last copied into the snapshot (= as last sent). */
  readonly #sent: BigUint64Array;
  readonly #sentWords: Uint32Array;
  /** Scratch: hashes of the live pages in this pass. */
  readonly #live64: BigUint64Array;
  readonly #liveWords: Uint32Array;
  #forceAll = true;

  /**
   * @param live the flow's region of a segment (a slice for the master's MO)
   * @param pageSize replication page size; must divide live.length
   */
  constructor(live: Buffer, pageSize: number) {
    if (pageSize <= 0 || live.length % pageSize !== 0) {
      throw new RangeError(`page size ${pageSize} does not divide the region of ${live.length} bytes`);
    }
    this.#live = live;
    this.pageSize = pageSize;
    this.pageCount = live.length / pageSize;
    this.#snapshot = Buffer.alloc(live.length);
    this.#sent = new BigUint64Array(this.pageCount);
    this.#sentWords = new Uint32Array(this.#sent.buffer);
    this.#live64 = new BigUint64Array(this.pageCount);
    this.#liveWords = new Uint32Array(this.#live64.buffer);
  }

  /** The next scan reports every page dirty (full sync after a join or an epoch change). */
  forceFull(): void {
    this.#forceAll = true;
  }

  /** The snapshot of the last scan. */
  get snapshot(): Buffer {
    return this.#snapshot;
  }

  /** Page `page` of the last snapshot (a view, no copy). */
  page(page: number): Buffer {
    return this.#snapshot.subarray(page * this.pageSize, (page + 1) * this.pageSize);
  }

  /**
   * Hash, compare, copy what changed. `generation` reads the writers' seqlock of this flow;
   * without it the pass runs as is. Returns 'busy' when no stable pass could be made.
   */
  scan(generation?: () => bigint): ScanResult | 'busy' {
    if (!generation) return this.#commit(this.#pass());
    const deadline = performance.now() + SNAPSHOT_BUDGET_MS;
    for (let i = 0; i < SNAPSHOT_MAX_TRIES; i++) {
      const before = generation();
      if ((before & 1n) === 0n) {
        const pass = this.#pass();
        if (generation() === before) return this.#commit(pass);
      }
      if ((i & 15) === 15 && performance.now() > deadline) break;
    }
    return 'busy';
  }

  /**
   * Hash the live region in place and copy every changed page aside (not yet into the
   * snapshot: a pass that turns out unstable must leave the snapshot as it was, since the
   * sender may resend from it).
   */
  #pass(): { dirty: number[]; staged: Buffer } {
    const size = this.pageSize;
    native.hashPages(this.#live, size, SCAN_SEED, this.#live64);
    const dirty: number[] = [];
    const all = this.#forceAll;
    const a = this.#liveWords;
    const b = this.#sentWords;
    for (let i = 0, w = 0; i < this.pageCount; i++, w += 2) {
      // Two 32-bit compares instead of two BigInt loads per page: no allocation per page.
      if (all || a[w] !== b[w] || a[w + 1] !== b[w + 1]) dirty.push(i);
    }
    const staged = Buffer.allocUnsafe(dirty.length * size);
    dirty.forEach((p, k) => this.#live.copy(staged, k * size, p * size, (p + 1) * size));
    return { dirty, staged };
  }

  /** Move the staged pages into the snapshot and remember the hash of each copy (not of the live page). */
  #commit(pass: { dirty: number[]; staged: Buffer }): ScanResult {
    const size = this.pageSize;
    pass.dirty.forEach((p, k) => {
      const page = pass.staged.subarray(k * size, (k + 1) * size);
      page.copy(this.#snapshot, p * size);
      this.#sent[p] = native.xxh64(page, SCAN_SEED);
    });
    this.#forceAll = false;
    return { dirty: pass.dirty, snapshot: this.#snapshot };
  }
}

/**
 * The page scanner: which pages of a flow's region changed since the last scan.
 *
 * One scan is one pass: the live region is copied into a private snapshot, the snapshot
 * is hashed page by page (XXH64, native addon), and pages whose hash differs from the last
 * scan are dirty. Whatever is sent is then read from the snapshot, so the bytes hashed and
 * the bytes sent are always the same version (DESIGN §6b), and one scan's dirty pages form
 * one batch.
 *
 * When the flow's writers use the ST generation (DESIGN §3b), the copy is taken only while
 * the generation is even and unchanged across it; otherwise the scan reports `busy` and the
 * caller tries again at the next interval. Applications that never touch it lose nothing.
 */
import { native } from './native.js';

/** Seed of the scanner's local change-detection hash (never on the wire). */
const SCAN_SEED = 0n;
/**
 * How long one scan keeps trying for a stable copy while writers hold the generation odd
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
  #hashes: BigUint64Array;
  #fresh: BigUint64Array;
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
    this.#hashes = new BigUint64Array(this.pageCount);
    this.#fresh = new BigUint64Array(this.pageCount);
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
   * Copy, hash and compare. `generation` reads the writers' seqlock of this flow; without
   * it the copy is taken as is. Returns 'busy' when no stable copy could be taken.
   */
  scan(generation?: () => bigint): ScanResult | 'busy' {
    if (!this.#copy(generation)) return 'busy';
    native.hashPages(this.#snapshot, this.pageSize, SCAN_SEED, this.#fresh);
    const dirty: number[] = [];
    const all = this.#forceAll;
    for (let i = 0; i < this.pageCount; i++) {
      if (all || this.#fresh[i] !== this.#hashes[i]) dirty.push(i);
    }
    this.#forceAll = false;
    const previous = this.#hashes;
    this.#hashes = this.#fresh;
    this.#fresh = previous;
    return { dirty, snapshot: this.#snapshot };
  }

  #copy(generation: (() => bigint) | undefined): boolean {
    if (!generation) {
      this.#live.copy(this.#snapshot);
      return true;
    }
    const deadline = performance.now() + SNAPSHOT_BUDGET_MS;
    for (let i = 0; i < SNAPSHOT_MAX_TRIES; i++) {
      const before = generation();
      if ((before & 1n) === 0n) {
        this.#live.copy(this.#snapshot);
        if (generation() === before) return true;
      }
      if ((i & 15) === 15 && performance.now() > deadline) break;
    }
    return false;
  }
}

/**
 * The page scanner: which pages of a flow's region changed since the last scan.
 *
 * One scan is one pass over the live region, hashing every page in place (XXH3-64, native
 * addon) and comparing with the hash of what was last sent. Each page that differs is then
 * copied into a private snapshot and hashed again from the copy, and that copy is what the
 * sender reads and that hash is what the next scan compares with: the bytes hashed and the
 * bytes sent are always the same version (docs/design.md §6b), and one scan's dirty pages form one
 * batch. Only changed pages are copied, so an idle region costs one hashing read.
 *
 * When the flow's writers use the ST generation (docs/design.md §3b), the whole pass (hash, then
 * copy) must run while the generation is even and unchanged; otherwise it is retried for a
 * few milliseconds and then reported `busy`, and the next interval tries again. A writer
 * mid-update can therefore never leave half of its pages in a batch. Applications that
 * never touch the generation lose nothing.
 *
 * Timing: hashing runs at a few GB/s, so a region of a few MiB scans in about a
 * millisecond, but a 256 MiB one (hash, copy, hash the copy) takes a few hundred. Regions
 * above SLICED_SCAN_BYTES are therefore scanned by a SlicedScan in steps of about
 * SCAN_STEP_MS, one per event-loop turn (the daemon drives it with setImmediate), so no scan
 * holds the loop much longer than that. The generation is read before the first step and
 * checked after each: a change restarts the pass, and SLICED_MAX_TRIES restarts make it
 * `busy` like a synchronous scan. The snapshot changes only in the last (commit) steps,
 * while the sender is held (flows.ts), so a batch never reads half of two scans.
 */
import { native } from './native.js';

/** Seed of the scanner's local change-detection hash (never on the wire). */
const SCAN_SEED = 0n; // XXH3-64 with this seed: see docs/benchmarks.md for why XXH3 here and XXH64 on the wire
/**
 * How long one scan keeps trying for a stable pass while writers hold the generation odd
 * or move it. A writer that updates in a tight loop leaves only short even windows; a few
 * milliseconds of retries catch one without stalling the daemon.
 */
const SNAPSHOT_BUDGET_MS = 5;
const SNAPSHOT_MAX_TRIES = 100_000;

/** Regions larger than this are scanned in slices across event-loop turns. */
export const SLICED_SCAN_BYTES = 4 * 1024 * 1024;
/** Work one step of a sliced scan does before it yields, ms. */
export const SCAN_STEP_MS = 8;
/** Bytes hashed or copied between two looks at the clock inside a step. */
const STEP_BYTES = 1024 * 1024;
const SLICED_MAX_TRIES = 3;

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
    if (!Number.isInteger(pageSize) || pageSize <= 0 || live.length % pageSize !== 0) {
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
    native.hashPagesXxh3(this.#live, size, SCAN_SEED, this.#live64);
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

  /** True when scan() would hold the event loop too long: use sliced() instead. */
  get needsSlicing(): boolean {
    return this.#live.length > SLICED_SCAN_BYTES;
  }

  /** A scan in steps (see the module comment); `generation` as for scan(). */
  sliced(generation?: () => bigint): SlicedScan {
    return new SlicedScan(
      this,
      {
        live: this.#live,
        live64: this.#live64,
        liveWords: this.#liveWords,
        sentWords: this.#sentWords,
        sent: this.#sent,
        snapshot: this.#snapshot,
        forceAll: () => this.#forceAll,
        done: () => (this.#forceAll = false),
      },
      generation,
    );
  }

  /** Move the staged pages into the snapshot and remember the hash of each copy (not of the live page). */
  #commit(pass: { dirty: number[]; staged: Buffer }): ScanResult {
    const size = this.pageSize;
    pass.dirty.forEach((p, k) => {
      const page = pass.staged.subarray(k * size, (k + 1) * size);
      page.copy(this.#snapshot, p * size);
      this.#sent[p] = native.xxh3(page, SCAN_SEED);
    });
    this.#forceAll = false;
    return { dirty: pass.dirty, snapshot: this.#snapshot };
  }
}

/** What a SlicedScan may touch of its scanner. */
interface ScannerInternals {
  live: Buffer;
  live64: BigUint64Array;
  liveWords: Uint32Array;
  sentWords: Uint32Array;
  sent: BigUint64Array;
  snapshot: Buffer;
  forceAll(): boolean;
  done(): void;
}

/**
 * One scan split into steps: hash the live region and compare (phase 'hash'), copy the
 * dirty pages aside ('copy'), check the generation, then move them into the snapshot and
 * hash the copies ('commit'). Call step() until it returns a result or 'busy'.
 */
export class SlicedScan {
  readonly #scanner: PageScanner;
  readonly #s: ScannerInternals;
  readonly #generation: (() => bigint) | undefined;
  #before = 0n;
  #tries = 0;
  #phase: 'start' | 'hash' | 'copy' | 'commit' = 'start';
  #pos = 0;
  #dirty: number[] = [];
  #staged: Buffer = Buffer.alloc(0);
  #hashes: BigUint64Array = new BigUint64Array(0);

  constructor(scanner: PageScanner, internals: ScannerInternals, generation?: () => bigint) {
    this.#scanner = scanner;
    this.#s = internals;
    this.#generation = generation;
  }

  /** True once the snapshot is being written: the sender must not read it until done. */
  get committing(): boolean {
    return this.#phase === 'commit';
  }

  #restart(): 'busy' | undefined {
    if (++this.#tries > SLICED_MAX_TRIES) return 'busy';
    this.#phase = 'start';
    return undefined;
  }

  /** Do about `budgetMs` of work; the result when the scan is done, 'busy', or undefined (call again). */
  step(budgetMs = SCAN_STEP_MS): ScanResult | 'busy' | undefined {
    const deadline = performance.now() + budgetMs;
    const size = this.#scanner.pageSize;
    const pages = this.#scanner.pageCount;
    const perStep = Math.max(1, Math.floor(STEP_BYTES / size));
    const s = this.#s;
    while (performance.now() < deadline) {
      switch (this.#phase) {
        case 'start': {
          if (this.#generation) {
            this.#before = this.#generation();
            if ((this.#before & 1n) === 1n) return this.#restart() ?? undefined;
          }
          this.#pos = 0;
          this.#dirty = [];
          this.#phase = 'hash';
          break;
        }
        case 'hash': {
          const end = Math.min(pages, this.#pos + perStep);
          native.hashPagesXxh3(s.live.subarray(this.#pos * size, end * size), size, SCAN_SEED, s.live64.subarray(this.#pos, end));
          const all = s.forceAll();
          for (let i = this.#pos, w = 2 * this.#pos; i < end; i++, w += 2) {
            if (all || s.liveWords[w] !== s.sentWords[w] || s.liveWords[w + 1] !== s.sentWords[w + 1]) this.#dirty.push(i);
          }
          this.#pos = end;
          if (end === pages) {
            this.#staged = Buffer.allocUnsafe(this.#dirty.length * size);
            this.#pos = 0;
            this.#phase = 'copy';
          }
          break;
        }
        case 'copy': {
          const end = Math.min(this.#dirty.length, this.#pos + perStep);
          for (let k = this.#pos; k < end; k++) {
            const p = this.#dirty[k]!;
            s.live.copy(this.#staged, k * size, p * size, (p + 1) * size);
          }
          this.#pos = end;
          if (end === this.#dirty.length) {
            if (this.#generation && this.#generation() !== this.#before) {
              const r = this.#restart();
              if (r) return r;
              break;
            }
            this.#hashes = new BigUint64Array(this.#dirty.length);
            this.#pos = 0;
            this.#phase = 'commit';
          }
          break;
        }
        case 'commit': {
          const end = Math.min(this.#dirty.length, this.#pos + perStep);
          // Hash the copies in one native call per step, then move them into the snapshot.
          native.hashPagesXxh3(this.#staged.subarray(this.#pos * size, end * size), size, SCAN_SEED, this.#hashes.subarray(this.#pos, end));
          for (let k = this.#pos; k < end; k++) {
            const p = this.#dirty[k]!;
            this.#staged.copy(s.snapshot, p * size, k * size, (k + 1) * size);
            s.sent[p] = this.#hashes[k]!;
          }
          this.#pos = end;
          if (end === this.#dirty.length) {
            s.done();
            const dirty = this.#dirty;
            this.#staged = Buffer.alloc(0);
            return { dirty, snapshot: s.snapshot };
          }
          break;
        }
      }
    }
    return undefined;
  }
}

/**
 * Writers whose every store is known, so a test knows the exact final state of every flow
 * and can tell a lost, reordered or cross-wired update from a slow one.
 *
 * A flow is one sender's region as one receiver sees it: `mo[n]` (master MO slice n ->
 * remote n's MO), `ro[n]` (remote n's RO -> master RO slice n) or `bc[n]` (the master's BC
 * -> remote n's BC). Each sender region has one writer (a Source); the BC writer feeds
 * every remote's bc[n] flow, so those flows share it. A writer keeps a counter seq and,
 * per step, inside the sender's ST generation (writeConsistent, docs/design.md §3b), stores
 *   value(seq) = tag << 48 | seq
 * at PAIR_A (offset 0, the first page) and PAIR_B (the last word, the last page), and at
 * slot seq % slots, slots spread over every page. So the region after step s is a pure
 * function of s (expected(s)): the pair holds s, slot k holds the last s' <= s with
 * s' % slots == k. The tag names the sender region (mo and ro by client, bc one tag for
 * every remote, as all get the same bytes), so a page delivered to the wrong slice or
 * segment shows.
 *
 * What a receiver may see follows: the two pair words are equal in every whole batch (a
 * difference is a torn batch); no word ever decreases (segments outlive daemons, so not
 * even a restart may take a value back); no slot is ahead of the pair, since the pair is
 * written last-or-with every slot and both pair pages are dirty in every batch.
 */
import type { MasterNode, RemoteNode } from '../../src/index.js';

export const PAIR_A = 0;
export const TAG_SHIFT = 48n;
const SEQ_MASK = (1n << TAG_SHIFT) - 1n;

export type FlowDir = 'mo' | 'ro' | 'bc';

export interface FlowName {
  dir: FlowDir;
  /** The remote at the far end: sender of ro, receiver of mo and bc. */
  client: number;
}

const TAG_BASE: Record<FlowDir, number> = { mo: 0x1000, ro: 0x2000, bc: 0x3000 };

/** `mo[2]`; the BC writer's own model (client -1, no receiver) is just `bc`. */
export const flowLabel = (f: FlowName): string => (f.client < 0 ? f.dir : `${f.dir}[${f.client}]`);

/** The layout of one flow's region: where the pair and the slots are, and what they hold. */
export class FlowModel {
  readonly name: FlowName;
  readonly tag: bigint;
  readonly size: number;
  readonly slots: number;
  readonly pairB: number;
  readonly #slotOffsets: number[];

  constructor(name: FlowName, size: number, slots = 24) {
    if (size < 64 || size % 8 !== 0) throw new RangeError(`region size ${size} is too small or not whole words`);
    this.name = name;
    // BC: the same tag on every remote, since every remote receives the same bytes.
    this.tag = BigInt(TAG_BASE[name.dir] + (name.dir === 'bc' ? 0 : name.client));
    this.size = size;
    this.slots = slots;
    this.pairB = size - 8;
    // Slots evenly between the pair words, word aligned: every page gets some.
    const stride = Math.floor((size - 16) / slots / 8) * 8;
    if (stride < 8) throw new RangeError(`${slots} slots do not fit ${size} bytes`);
    this.#slotOffsets = Array.from({ length: slots }, (_, k) => 8 + k * stride);
  }

  slotOffset(k: number): number {
    const o = this.#slotOffsets[k];
    if (o === undefined) throw new RangeError(`slot ${k} out of range`);
    return o;
  }

  value(seq: bigint): bigint {
    return seq === 0n ? 0n : (this.tag << TAG_SHIFT) | seq;
  }

  /** Seq of a stored word, or undefined when its tag is not this flow's (0 counts as seq 0). */
  seqOf(word: bigint): bigint | undefined {
    if (word === 0n) return 0n;
    return word >> TAG_SHIFT === this.tag ? word & SEQ_MASK : undefined;
  }

  /** Step `seq`: the pair and one slot, stored into `region`. */
  store(region: Buffer, seq: bigint): void {
    const v = this.value(seq);
    region.writeBigUInt64LE(v, this.slotOffset(Number(seq % BigInt(this.slots))));
    region.writeBigUInt64LE(v, PAIR_A);
    region.writeBigUInt64LE(v, this.pairB);
  }

  /** The whole region after steps 1..seq from zero. */
  expected(seq: bigint): Buffer {
    const out = Buffer.alloc(this.size);
    const s = BigInt(this.slots);
    for (let k = 0; k < this.slots; k++) {
      const kk = BigInt(k);
      if (seq < kk) continue;
      out.writeBigUInt64LE(this.value(kk + s * ((seq - kk) / s)), this.slotOffset(k));
    }
    out.writeBigUInt64LE(this.value(seq), PAIR_A);
    out.writeBigUInt64LE(this.value(seq), this.pairB);
    return out;
  }
}

/**
 * One writer as the test process sees it: the sender's memory, its step counter and its
 * seqlock. Shared by every flow it feeds (the BC writer feeds one flow per remote).
 */
export interface Source {
  readonly model: FlowModel;
  /** The sender's memory (the writer stores here). */
  readonly buffer: Buffer;
  /** Writes made so far: the last seq stored. */
  written: bigint;
  /** False stops this writer (a remote that will never come back). */
  enabled: boolean;
  writeConsistent(fn: () => void): void;
}

/** One flow as the test process sees it: its writer, the receiver's memory and the seqlock read. */
export interface Flow {
  readonly model: FlowModel;
  readonly label: string;
  readonly src: Source;
  /** The sender's memory (src.buffer). */
  readonly source: Buffer;
  /** The receiver's memory. */
  readonly sink: Buffer;
  /** The writer's last seq (src.written). */
  readonly written: bigint;
  /** The writer's switch (src.enabled): for bc, switching it off stops BC for every remote. */
  enabled: boolean;
  /** False leaves this flow out of catch-up and convergence checks (its receiver is gone). */
  tracked: boolean;
  readConsistent<T>(fn: () => T): T;
}

export function makeSource(model: FlowModel, buffer: Buffer, writeConsistent: (fn: () => void) => void): Source {
  if (buffer.length < model.size) throw new RangeError(`${flowLabel(model.name)}: sender region of ${buffer.length} bytes is smaller than the model's ${model.size}`);
  return { model, buffer, written: 0n, enabled: true, writeConsistent };
}

/** A flow from `src` to `sink`, labelled by `model` (whose layout must be the source's). */
export function makeFlow(model: FlowModel, src: Source, sink: Buffer, readConsistent: <T>(fn: () => T) => T): Flow {
  if (sink.length !== src.buffer.length) throw new RangeError(`${flowLabel(model.name)}: receiver has ${sink.length} bytes, sender ${src.buffer.length}`);
  return {
    model, label: flowLabel(model.name), src, source: src.buffer, sink, tracked: true, readConsistent,
    get written() {
      return src.written;
    },
    get enabled() {
      return src.enabled;
    },
    set enabled(v: boolean) {
      src.enabled = v;
    },
  };
}

/**
 * Every flow of a cluster: mo[n] and ro[n] for each remote n, and bc[n] for each remote
 * when the master has BC (one BC writer on the master for all of them).
 */
export function clusterFlows(master: MasterNode, remotes: ReadonlyMap<number, RemoteNode>, slots?: number): Flow[] {
  const flows: Flow[] = [];
  for (const [n, r] of remotes) {
    const mo = new FlowModel({ dir: 'mo', client: n }, master.segSize, slots);
    const ro = new FlowModel({ dir: 'ro', client: n }, master.segSize, slots);
    flows.push(makeFlow(mo, makeSource(mo, master.moSlice(n), (fn) => master.writeConsistent(n, fn)), r.mo,
      (fn) => r.readConsistent('mo', fn, { maxTries: 10_000 })));
    flows.push(makeFlow(ro, makeSource(ro, r.ro, (fn) => r.writeConsistent(fn)), master.roSlice(n),
      (fn) => master.readConsistent(n, fn, { maxTries: 10_000 })));
  }
  if (master.bc) {
    const bcBuf = master.bc;
    const model = (client: number): FlowModel => new FlowModel({ dir: 'bc', client }, bcBuf.length, slots);
    const src = makeSource(model(-1), bcBuf, (fn) => master.writeConsistent('bc', fn));
    for (const [n, r] of remotes) {
      if (!r.bc) throw new Error(`the master has BC but remote ${n}'s registry lists none: did it learn BC at join?`);
      flows.push(makeFlow(model(n), src, r.bc, (fn) => r.readConsistent('bc', fn, { maxTries: 10_000 })));
    }
  }
  return flows;
}

export interface WritersOptions {
  /** Timer period; default 5 ms. */
  everyMs?: number;
  /** Steps per flow per tick, each in its own generation; default 2. */
  stepsPerTick?: number;
  /** Stop after this many steps per flow (a bound for every loop); default 1e7. */
  maxSteps?: bigint;
}

/**
 * Writers on every side: a timer that, per tick, advances each enabled writer by a few
 * steps. The test process writes the master's MO slices and BC and every remote's RO
 * through the registry attachments, exactly as applications on those nodes would. Flows
 * that share a writer (bc[n]) advance it once per step, not once per flow.
 */
export class Writers {
  readonly flows: Flow[];
  /** Every distinct writer of `flows`, in order. */
  readonly sources: Source[];
  readonly #every: number;
  readonly #steps: number;
  readonly #max: bigint;
  #timer: NodeJS.Timeout | undefined;

  constructor(flows: Flow[], o: WritersOptions = {}) {
    this.flows = flows;
    this.sources = [...new Set(flows.map((f) => f.src))];
    this.#every = o.everyMs ?? 5;
    this.#steps = o.stepsPerTick ?? 2;
    this.#max = o.maxSteps ?? 10_000_000n;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Updates written over all writers (a BC update counts once, however many remotes get it). */
  get total(): bigint {
    return this.sources.reduce((sum, w) => sum + w.written, 0n);
  }

  /** Updates written by the writers of one direction. */
  totalOf(dir: FlowDir): bigint {
    return this.sources.filter((w) => w.model.name.dir === dir).reduce((sum, w) => sum + w.written, 0n);
  }

  step(): void {
    for (const w of this.sources) {
      if (!w.enabled) continue;
      for (let i = 0; i < this.#steps && w.written < this.#max; i++) {
        const seq = w.written + 1n;
        w.writeConsistent(() => w.model.store(w.buffer, seq));
        w.written = seq;
      }
    }
  }

  start(): void {
    this.#timer ??= setInterval(() => this.step(), this.#every);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The seq each tracked flow has reached, to wait for receivers to catch up to it. */
  marks(): Map<Flow, bigint> {
    return new Map(this.flows.filter((f) => f.tracked).map((f) => [f, f.written]));
  }
}

/**
 * Writers whose every store is known, so a test knows the exact final state of every flow
 * and can tell a lost, reordered or cross-wired update from a slow one.
 *
 * A flow is one direction of one slice: `mo[n]` (master MO slice n -> remote n's MO) or
 * `ro[n]` (remote n's RO -> master RO slice n). Its writer keeps a counter seq and, per
 * step, inside the flow's ST generation (writeConsistent, DESIGN §3b), stores
 *   value(seq) = tag << 48 | seq
 * at PAIR_A (offset 0, the first page) and PAIR_B (the last word, the last page), and at
 * slot seq % slots, slots spread over every page. So the region after step s is a pure
 * function of s (expected(s)): the pair holds s, slot k holds the last s' <= s with
 * s' % slots == k. The tag names the flow, so a page delivered to the wrong slice shows.
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

export type FlowDir = 'mo' | 'ro';

export interface FlowName {
  dir: FlowDir;
  client: number;
}

export const flowLabel = (f: FlowName): string => `${f.dir}[${f.client}]`;

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
    this.tag = BigInt((name.dir === 'mo' ? 0x1000 : 0x2000) + name.client);
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

/** One flow as the test process sees it: both ends' memory and the seqlock calls. */
export interface Flow {
  readonly model: FlowModel;
  readonly label: string;
  /** The sender's memory (the writer stores here). */
  readonly source: Buffer;
  /** The receiver's memory. */
  readonly sink: Buffer;
  /** Writes made so far: the last seq stored. */
  written: bigint;
  /** False stops this flow's writer (a remote that will never come back). */
  enabled: boolean;
  /** False leaves this flow out of catch-up and convergence checks (its receiver is gone). */
  tracked: boolean;
  writeConsistent(fn: () => void): void;
  readConsistent<T>(fn: () => T): T;
}

/** Every flow of a cluster: mo[n] and ro[n] for each remote n. */
export function clusterFlows(master: MasterNode, remotes: ReadonlyMap<number, RemoteNode>, slots?: number): Flow[] {
  const flows: Flow[] = [];
  for (const [n, r] of remotes) {
    const mo = new FlowModel({ dir: 'mo', client: n }, master.segSize, slots);
    const ro = new FlowModel({ dir: 'ro', client: n }, master.segSize, slots);
    flows.push({
      model: mo, label: flowLabel(mo.name), source: master.moSlice(n), sink: r.mo, written: 0n, enabled: true, tracked: true,
      writeConsistent: (fn) => master.writeConsistent(n, fn),
      readConsistent: (fn) => r.readConsistent('mo', fn, { maxTries: 10_000 }),
    });
    flows.push({
      model: ro, label: flowLabel(ro.name), source: r.ro, sink: master.roSlice(n), written: 0n, enabled: true, tracked: true,
      writeConsistent: (fn) => r.writeConsistent(fn),
      readConsistent: (fn) => master.readConsistent(n, fn, { maxTries: 10_000 }),
    });
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
 * Writers on every side: a timer that, per tick, advances each enabled flow by a few
 * steps. The test process writes the master's MO slices and every remote's RO through the
 * registry attachments, exactly as applications on those nodes would.
 */
export class Writers {
  readonly flows: Flow[];
  readonly #every: number;
  readonly #steps: number;
  readonly #max: bigint;
  #timer: NodeJS.Timeout | undefined;

  constructor(flows: Flow[], o: WritersOptions = {}) {
    this.flows = flows;
    this.#every = o.everyMs ?? 5;
    this.#steps = o.stepsPerTick ?? 2;
    this.#max = o.maxSteps ?? 10_000_000n;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Updates written over all flows. */
  get total(): bigint {
    return this.flows.reduce((sum, f) => sum + f.written, 0n);
  }

  step(): void {
    for (const f of this.flows) {
      if (!f.enabled) continue;
      for (let i = 0; i < this.#steps && f.written < this.#max; i++) {
        const seq = f.written + 1n;
        f.writeConsistent(() => f.model.store(f.source, seq));
        f.written = seq;
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

/**
 * Checking what every side holds: a per-byte-range comparison of each flow's two ends
 * (and of both with the writer's known state), and a continuous reader that watches every
 * receiver through its seqlock and flags anything a correct PDSM can never show.
 *
 * Timing: the reader runs on a timer in the test process (every `everyMs`, all flows per
 * tick); the daemons apply batches in their own processes, so a read can meet a daemon
 * half way through a batch, which is exactly what readConsistent must hide. Waiting
 * helpers poll every `pollMs` and are bounded by a timeout and a count.
 */
import { flowLabel, PAIR_A, type Flow } from './workload.js';

export interface ByteRange {
  start: number;
  end: number;
}

/** Maximal runs of bytes where a and b differ (equal lengths). */
export function differingRanges(a: Uint8Array, b: Uint8Array): ByteRange[] {
  if (a.length !== b.length) return [{ start: 0, end: Math.max(a.length, b.length) }];
  const out: ByteRange[] = [];
  let start = -1;
  for (let i = 0; i <= a.length; i++) {
    const differs = i < a.length && a[i] !== b[i];
    if (differs && start < 0) start = i;
    else if (!differs && start >= 0) {
      out.push({ start, end: i });
      start = -1;
    }
  }
  return out;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
export const formatRange = (r: ByteRange): string => `${hex(r.start)}..${hex(r.end)}`;

export interface FlowReport {
  label: string;
  /** Byte ranges where sender and receiver differ. */
  differ: ByteRange[];
  /** Byte ranges where the sender differs from the writer's known state (a harness bug). */
  sourceWrong: ByteRange[];
  /** Byte ranges where the receiver differs from the writer's known state. */
  sinkWrong: ByteRange[];
  agree: boolean;
}

export interface Comparison {
  flows: FlowReport[];
  agree: boolean;
  /** One line per flow: its whole range agrees, or where it does not. */
  text: string;
}

/**
 * Compare every flow's sender and receiver with each other and with the writer's known
 * state after `written` steps. Only meaningful while no writer runs.
 */
export function compareSides(flows: readonly Flow[]): Comparison {
  const reports = flows.map((f): FlowReport => {
    const expected = f.model.expected(f.written);
    const differ = differingRanges(f.source, f.sink);
    const sourceWrong = differingRanges(f.source, expected);
    const sinkWrong = differingRanges(f.sink, expected);
    return { label: f.label, differ, sourceWrong, sinkWrong, agree: differ.length + sourceWrong.length + sinkWrong.length === 0 };
  });
  const text = reports
    .map((r) => {
      const size = flows.find((f) => f.label === r.label)?.model.size ?? 0;
      if (r.agree) return `${r.label} ${formatRange({ start: 0, end: size })} agree`;
      const parts = [
        r.differ.length ? `sides differ at ${r.differ.map(formatRange).join(' ')}` : '',
        r.sourceWrong.length ? `sender not as written at ${r.sourceWrong.map(formatRange).join(' ')}` : '',
        r.sinkWrong.length ? `receiver not as written at ${r.sinkWrong.map(formatRange).join(' ')}` : '',
      ];
      return `${r.label} DISAGREE: ${parts.filter(Boolean).join('; ')}`;
    })
    .join('\n');
  return { flows: reports, agree: reports.every((r) => r.agree), text };
}

export type ViolationKind = 'torn' | 'backwards' | 'foreign' | 'ahead';

export interface Violation {
  kind: ViolationKind;
  flow: string;
  detail: string;
  atMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Reads every receiver continuously with readConsistent (a remote's BC through its BC
 * record, readConsistent('bc')) and flags:
 * - torn: the two pair words differ (half a batch was visible);
 * - backwards: a pair or slot value went down (an update undone or applied out of order);
 * - foreign: a word carries another flow's tag (a page landed in the wrong slice, or BC
 *   and MO crossed);
 * - ahead: a slot is newer than the pair (pages of a later batch without the pair's).
 */
export class ContinuousReader {
  readonly flows: readonly Flow[];
  readonly violations: Violation[] = [];
  readonly counts: Record<ViolationKind, number> = { torn: 0, backwards: 0, foreign: 0, ahead: 0 };
  reads = 0;
  /** Reads that found no stable generation within readConsistent's bound. */
  busy = 0;
  /** Highest pair seq seen per flow. */
  readonly seen = new Map<Flow, bigint>();
  readonly #slotsSeen = new Map<Flow, bigint[]>();
  readonly #started = performance.now();
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(flows: readonly Flow[], everyMs = 2) {
    this.flows = flows;
    this.#everyMs = everyMs;
    for (const f of flows) {
      this.seen.set(f, 0n);
      this.#slotsSeen.set(f, new Array<bigint>(f.model.slots).fill(0n));
    }
  }

  /** Violations of every kind. */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  #flag(kind: ViolationKind, f: Flow, detail: string): void {
    this.counts[kind]++;
    if (this.violations.length < 50) this.violations.push({ kind, flow: f.label, detail, atMs: Math.round(performance.now() - this.#started) });
  }

  /** One consistent read of one flow's receiver, checked. */
  readOnce(f: Flow): void {
    const m = f.model;
    let words: bigint[];
    try {
      words = f.readConsistent(() => {
        const w = [f.sink.readBigUInt64LE(PAIR_A), f.sink.readBigUInt64LE(m.pairB)];
        for (let k = 0; k < m.slots; k++) w.push(f.sink.readBigUInt64LE(m.slotOffset(k)));
        return w;
      });
    } catch {
      this.busy++;
      return;
    }
    this.reads++;
    const seqs = words.map((w) => m.seqOf(w));
    const bad = seqs.findIndex((s) => s === undefined);
    if (bad >= 0) {
      this.#flag('foreign', f, `word ${bad} = 0x${words[bad]!.toString(16)} is not ${flowLabel(m.name)}'s`);
      return;
    }
    const [a, b, ...slots] = seqs as bigint[];
    if (a !== b) this.#flag('torn', f, `pair words differ: ${a} at ${PAIR_A}, ${b} at ${m.pairB}`);
    const pair = a! < b! ? a! : b!;
    const prev = this.seen.get(f) ?? 0n;
    if (pair < prev) this.#flag('backwards', f, `pair went from ${prev} back to ${pair}`);
    else this.seen.set(f, pair);
    const slotPrev = this.#slotsSeen.get(f)!;
    slots.forEach((s, k) => {
      if (s < slotPrev[k]!) this.#flag('backwards', f, `slot ${k} went from ${slotPrev[k]} back to ${s}`);
      else slotPrev[k] = s;
      if (s > pair) this.#flag('ahead', f, `slot ${k} holds ${s}, newer than the pair ${pair}`);
    });
  }

  tick(): void {
    for (const f of this.flows) this.readOnce(f);
  }

  start(): void {
    this.#timer ??= setInterval(() => this.tick(), this.#everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  summary(): string {
    const c = this.counts;
    const lines = [`${this.reads} consistent reads (${this.busy} busy): torn ${c.torn}, backwards ${c.backwards}, foreign ${c.foreign}, ahead ${c.ahead}`];
    for (const v of this.violations.slice(0, 10)) lines.push(`  ${v.kind} ${v.flow} at ${v.atMs} ms: ${v.detail}`);
    return lines.join('\n');
  }
}

/** The pair seq a flow's receiver holds now (consistent read; undefined if busy or foreign). */
export function receivedSeq(f: Flow): bigint | undefined {
  try {
    return f.model.seqOf(f.readConsistent(() => f.sink.readBigUInt64LE(PAIR_A)));
  } catch {
    return undefined;
  }
}

/**
 * Milliseconds until every flow in `marks` has a receiver at or past its mark (writers may
 * keep running), or undefined after timeoutMs. Measures catching up after a fault.
 */
export async function waitCaughtUp(marks: ReadonlyMap<Flow, bigint>, timeoutMs: number, pollMs = 10): Promise<number | undefined> {
  const start = performance.now();
  const maxPolls = Math.ceil(timeoutMs / pollMs) + 1;
  for (let i = 0; i < maxPolls; i++) {
    let all = true;
    for (const [f, mark] of marks) {
      const s = receivedSeq(f);
      if (s === undefined || s < mark) {
        all = false;
        break;
      }
    }
    if (all) return performance.now() - start;
    if (performance.now() - start > timeoutMs) break;
    await sleep(pollMs);
  }
  return undefined;
}

/**
 * Milliseconds until every flow is byte-identical on both sides and equal to the writer's
 * state (writers must be stopped), or undefined after timeoutMs; `last` is the final comparison.
 */
export async function waitConverged(flows: readonly Flow[], timeoutMs: number, pollMs = 10): Promise<{ ms: number | undefined; last: Comparison }> {
  const start = performance.now();
  const maxPolls = Math.ceil(timeoutMs / pollMs) + 1;
  let last = compareSides(flows);
  for (let i = 0; i < maxPolls && !last.agree && performance.now() - start <= timeoutMs; i++) {
    await sleep(pollMs);
    last = compareSides(flows);
  }
  return { ms: last.agree ? performance.now() - start : undefined, last };
}

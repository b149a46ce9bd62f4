/**
 * Flush on demand for one outgoing flow: a writer asks (`pdsm flush`, a library's flush(),
 * through the control socket) and the flow is scanned and sent now instead of at the next
 * interval. The scan is the periodic scan's own (the session core's flushScan, which calls
 * the flow's tick()); the periodic scan keeps its schedule.
 *
 * Timing: nothing runs while nobody asks (no timer, no polling). A request arms one scan to
 * run as soon as the callback that read it returns (a microtask: every request of the same
 * read, e.g. a client's loop of flushes written at once, rides on it, and no other I/O callback
 * or event-loop phase comes first; a setImmediate hop measured 0.13 ms at the median and
 * several ms at p99 on a loaded machine, on the path of every flush), but never earlier than
 * `minGapMs` after the flow's last flush scan, nor earlier than that scan's own duration after
 * it: a tight loop of flushes costs a flow at most one scan per max(minGapMs, scan time), so at
 * least half of the loop is left for heartbeats, datagrams and other flows. Requests that
 * arrive while a scan is armed or under way (a sliced scan of a large region, a batch still
 * being paced out), or within the gap after one, coalesce into the one scan that follows; each
 * request is answered when a scan that began after it has queued its datagrams (or found
 * nothing changed, the writers busy, or no session).
 */
import { realClock, Deadline, type Clock } from '../reliability/clock.js';
import type { FlushScan } from '../session/link.js';

/** Default of --flush-min-ms: at most one flush scan per flow per this many ms. */
export const DEFAULT_FLUSH_MIN_MS = 1;
/** While a scan or batch is under way, look again this often (only while a flush waits). */
export const FLUSH_RETRY_MS = 1;

/** What a flush did, as the control socket answers it. */
export type FlushOutcome = 'sent' | 'unchanged' | 'busy' | 'down';

export interface FlushDone {
  outcome: FlushOutcome;
  /** Pages queued to send. */
  pages: number;
}

export function outcomeOf(r: Exclude<FlushScan, 'scanning'>): FlushDone {
  if (r === 'busy' || r === 'down') return { outcome: r, pages: 0 };
  return { outcome: r > 0 ? 'sent' : 'unchanged', pages: r };
}

export interface FlushGateOptions {
  minGapMs: number;
  clock?: Clock;
  /** Run `fn` once the current callback returns (queueMicrotask); tests pass their own. */
  immediate?: (fn: () => void) => void;
}

export class FlushGate {
  readonly #scan: () => FlushScan;
  readonly #minGapMs: number;
  readonly #clock: Clock;
  readonly #immediate: (fn: () => void) => void;
  readonly #timer: Deadline;
  /** Requests waiting for the next scan. */
  #waiting: ((done: FlushDone) => void)[] = [];
  #armed = false;
  #closed = false;
  #lastScanAt = -Infinity;
  #lastScanMs = 0;
  /** Flush requests taken (pdsm_flush_requests_total). */
  requests = 0;
  /** Flush scans run (pdsm_flush_scans_total): far fewer than requests under a storm. */
  scans = 0;

  constructor(scan: () => FlushScan, options: FlushGateOptions) {
    this.#scan = scan;
    this.#minGapMs = options.minGapMs;
    this.#clock = options.clock ?? realClock;
    this.#immediate = options.immediate ?? queueMicrotask;
    this.#timer = new Deadline(this.#clock, () => this.#run());
  }

  /** Ask for a scan; resolves when one that began after this call has done its work. */
  request(): Promise<FlushDone> {
    this.requests++;
    if (this.#closed) return Promise.resolve({ outcome: 'down', pages: 0 });
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#arm();
    });
  }

  /** Answer everyone waiting with `down` and stop (the daemon is stopping). */
  close(): void {
    this.#timer.cancel();
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve({ outcome: 'down', pages: 0 });
  }

  #arm(): void {
    if (this.#armed || this.#closed) return;
    this.#armed = true;
    const at = this.#lastScanAt + Math.max(this.#minGapMs, this.#lastScanMs);
    if (at <= this.#clock.now()) this.#immediate(() => this.#run());
    else this.#timer.armAt(at);
  }

  #run(): void {
    if (this.#waiting.length === 0 || this.#closed) return;
    const started = this.#clock.now();
    const r = this.#scan();
    if (r === 'scanning') {
      // A scan or batch of this flow is under way and may predate the requests: wait for it.
      this.#timer.armAt(this.#clock.now() + FLUSH_RETRY_MS);
      return;
    }
    this.scans++;
    this.#lastScanAt = this.#clock.now();
    this.#lastScanMs = this.#lastScanAt - started;
    this.#armed = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    const done = outcomeOf(r);
    for (const resolve of waiting) resolve(done);
  }
}

/** A flush request as the control socket takes it (README "Control socket"). */
export interface FlushRequest {
  /** The flow; absent: every outgoing flow of the daemon. */
  flow?: 'mo' | 'bc' | 'ro';
  /** Master, flow mo: the slice (client id); absent: every slice. */
  client?: number;
  /** false: answer as soon as the request is taken (outcome 'queued'). */
  wait: boolean;
}

/** One flow's part of the answer. */
export interface FlushResult {
  flow: 'mo' | 'bc' | 'ro';
  client?: number;
  outcome: FlushOutcome | 'queued';
  pages: number;
}

export interface FlushTarget {
  flow: 'mo' | 'bc' | 'ro';
  client?: number;
  gate: FlushGate;
}

/** Ask every target's gate; with `wait`, answer once each has scanned, else at once. */
export async function flushTargets(targets: FlushTarget[], wait: boolean): Promise<FlushResult[]> {
  const name = (t: FlushTarget): Pick<FlushResult, 'flow' | 'client'> => (t.client === undefined ? { flow: t.flow } : { flow: t.flow, client: t.client });
  const asked = targets.map((t) => t.gate.request());
  if (!wait) return targets.map((t) => ({ ...name(t), outcome: 'queued', pages: 0 }));
  const done = await Promise.all(asked);
  return targets.map((t, i) => ({ ...name(t), ...done[i]! }));
}

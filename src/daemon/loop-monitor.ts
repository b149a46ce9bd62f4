/**
 * How long the daemon's event loop was held: perf_hooks' monitorEventLoopDelay, a
 * histogram of how late a timer of `resolutionMs` fired. A p99 or max far above the
 * resolution means some task (ours or the machine's load) held the loop that long; PDSM's
 * own tasks run in steps of about 8 ms (flows.ts), so figures above ~20 ms point at the
 * machine or a bug (issue 12's target: p99 <= 20 ms, max <= 100 ms).
 *
 * Timing: the histogram is read and reset every `windowMs` (default 10 s) into `last`, so a
 * report shows the worst of the last full window and the window under way, not one stall
 * from hours ago; `total` keeps the maximum since start.
 *
 * Wiring (the daemon): `const loop = new LoopMonitor(); loop.start();` at start-up,
 * `report.loopDelay = loop.report()` in report(), `loop.stop()` at shutdown. `onStall` is
 * told each window whose max passed `stallMs`, for a log line or a liveness extension.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { LoopDelayReport } from './status-report.js';

export interface LoopMonitorOptions {
  /** Sampling timer, ms (default 10; Node's minimum is 1). */
  resolutionMs?: number;
  /** Report window, ms (default 10 000). */
  windowMs?: number;
  /** A window whose max is above this (ms, default 100) is reported to onStall. */
  stallMs?: number;
  onStall?(report: LoopDelayReport): void;
}

const NS_PER_MS = 1e6;

function figures(h: IntervalHistogram, windowS: number, resolutionMs: number): LoopDelayReport {
  // The histogram measures the timer's lateness plus its own period: take the period off.
  const ms = (ns: number): number => (Number.isFinite(ns) && h.count > 0 ? Math.max(0, Math.round((ns / NS_PER_MS - resolutionMs) * 10) / 10) : 0);
  return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), windowS: Math.round(windowS * 10) / 10 };
}

export class LoopMonitor {
  readonly #h: IntervalHistogram;
  readonly #resolutionMs: number;
  readonly #windowMs: number;
  readonly #stallMs: number;
  readonly #onStall: ((r: LoopDelayReport) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #windowStart = performance.now();
  /** The last full window. */
  last: LoopDelayReport | undefined;
  /** Largest delay since start, ms. */
  maxSinceStart = 0;
  /** Windows whose max passed stallMs. */
  stalls = 0;

  constructor(options: LoopMonitorOptions = {}) {
    this.#resolutionMs = Math.max(1, Math.round(options.resolutionMs ?? 10));
    this.#windowMs = Math.max(100, options.windowMs ?? 10_000);
    this.#stallMs = options.stallMs ?? 100;
    this.#onStall = options.onStall;
    this.#h = monitorEventLoopDelay({ resolution: this.#resolutionMs });
  }

  start(): void {
    if (this.#timer) return;
    this.#h.enable();
    this.#windowStart = performance.now();
    this.#timer = setInterval(() => this.#roll(), this.#windowMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#h.disable();
  }

  #roll(): void {
    const now = performance.now();
    const r = figures(this.#h, (now - this.#windowStart) / 1000, this.#resolutionMs);
    this.#h.reset();
    this.#windowStart = now;
    this.last = r;
    this.maxSinceStart = Math.max(this.maxSinceStart, r.maxMs);
    if (r.maxMs > this.#stallMs) {
      this.stalls++;
      this.#onStall?.(r);
    }
  }

  /** The window under way, or the last full one when it is worse (for `pdsm status`). */
  report(): LoopDelayReport {
    const current = figures(this.#h, (performance.now() - this.#windowStart) / 1000, this.#resolutionMs);
    this.maxSinceStart = Math.max(this.maxSinceStart, current.maxMs);
    const last = this.last;
    if (!last) return current;
    return {
      p50Ms: Math.max(current.p50Ms, last.p50Ms),
      p99Ms: Math.max(current.p99Ms, last.p99Ms),
      maxMs: Math.max(current.maxMs, last.maxMs),
      windowS: last.windowS + current.windowS,
    };
  }
}

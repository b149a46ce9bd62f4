/**
 * Time for the reliability layer. Intervals and timeouts use a monotonic clock
 * (performance.now, ms); wall-clock time is only for ST stamps (docs/design.md §6b). Streams take a
 * Clock so tests can drive timers deterministically.
 */

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A one-shot timer that can be (re)armed for the earliest of several deadlines. */
export class Deadline {
  readonly #clock: Clock;
  readonly #fn: () => void;
  #handle: unknown;
  #at = Infinity;

  constructor(clock: Clock, fn: () => void) {
    this.#clock = clock;
    this.#fn = fn;
  }

  /** Fire at `at` (monotonic ms) unless already armed for an earlier time. */
  armAt(at: number): void {
    if (at >= this.#at) return;
    this.cancel();
    this.#at = at;
    this.#handle = this.#clock.setTimeout(
      () => {
        this.#handle = undefined;
        this.#at = Infinity;
        this.#fn();
      },
      Math.max(0, at - this.#clock.now()),
    );
  }

  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#at = Infinity;
  }

  get armed(): boolean {
    return this.#handle !== undefined;
  }
}

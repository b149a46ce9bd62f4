/**
 * How many REJECTs the master may send (spec/protocol.md §4.3, §13): a token bucket per
 * source ADDRESS (not address and port, so spoofing many ports from one address buys
 * nothing) and one global bucket, so a flood of spoofed addresses cannot turn the master
 * into a reflector either. Time is `now` (monotonic ms) from the caller.
 */

export interface RejectBudgetOptions {
  /** Per source address: burst and refill per second. */
  perAddressBurst: number;
  perAddressPerSecond: number;
  /** All sources together, per second (also the burst). */
  globalPerSecond: number;
  /** Addresses tracked at most (oldest forgotten first). */
  maxAddresses: number;
}

/** spec §12 REJECT budget. */
export const REJECT_BUDGET: RejectBudgetOptions = { perAddressBurst: 8, perAddressPerSecond: 2, globalPerSecond: 100, maxAddresses: 4096 };

interface Bucket {
  tokens: number;
  at: number;
}

function take(b: Bucket, now: number, burst: number, perSecond: number): boolean {
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) * perSecond) / 1000);
  b.at = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

export class RejectBudget {
  readonly #o: RejectBudgetOptions;
  readonly #byAddress = new Map<string, Bucket>();
  readonly #global: Bucket;

  constructor(now: number, options: RejectBudgetOptions = REJECT_BUDGET) {
    this.#o = options;
    this.#global = { tokens: options.globalPerSecond, at: now };
  }

  /** May one more REJECT go to `address` now? Spends a token of both buckets when it may. */
  allow(address: string, now: number): boolean {
    const o = this.#o;
    let b = this.#byAddress.get(address);
    if (!b) {
      if (this.#byAddress.size >= o.maxAddresses) this.#byAddress.delete(this.#byAddress.keys().next().value!);
      b = { tokens: o.perAddressBurst, at: now };
      this.#byAddress.set(address, b);
    }
    const refill = { ...b };
    if (!take(refill, now, o.perAddressBurst, o.perAddressPerSecond)) {
      Object.assign(b, refill);
      return false;
    }
    if (!take(this.#global, now, o.globalPerSecond, o.globalPerSecond)) return false;
    Object.assign(b, refill);
    return true;
  }
}

/**
 * spec/protocol.md §8.4, the remote's unicast fallback detector, checked once per heartbeat
 * period in multicast mode. The master's BC Highest Seq advanced past what we have in each
 * of 3 periods in a row while not one multicast datagram arrived: multicast does not reach
 * us. Safety net for a quiet BC (one change, then nothing, would never make 3 advancing
 * periods): behind for 20 periods in a row, and for at least FALLBACK_QUIET_MS, with no
 * multicast at all, though our NACKs asked for repairs all along. The time bound matters
 * under heavy loss: NACKs back off to 2 s (spec §12), so at -i 50 twenty periods are only
 * about five NACK rounds, and at 30% loss each way five rounds all fail often enough to move
 * a healthy remote off multicast; twenty seconds are some fifteen rounds. Plain loss lets
 * some datagrams through and resets both counts.
 * Sticky until the next join (a new detector per session).
 */

export const FALLBACK_ADVANCING_PERIODS = 3;
export const FALLBACK_QUIET_PERIODS = 20;
export const FALLBACK_QUIET_MS = 20_000;

export class MulticastFallback {
  /** Set: ask for BC by unicast (WANT_BC_UNICAST in our HEARTBEATs). */
  wantUnicast = false;
  /** The master's BC Highest Seq from its last HEARTBEAT. */
  #highest: number | undefined;
  #highestAtCheck: number | undefined;
  #multicastSinceCheck = 0;
  /** When the current streak without multicast began (ms, the caller's clock). */
  #quietSince: number | undefined;
  periodsWithout = 0;
  advancingWithout = 0;

  /** A HEARTBEAT told the BC Highest Seq. */
  onHighest(seq: number): void {
    this.#highest = seq;
  }

  /** A datagram arrived on the multicast socket. */
  onMulticast(): void {
    this.#multicastSinceCheck++;
  }

  /**
   * One heartbeat period passed at `now` (ms); `expected` is the next BC sequence the
   * receiver waits for. Returns true when this check turned the fallback on.
   */
  check(expected: number | undefined, now: number): boolean {
    if (this.wantUnicast) return false;
    const highest = this.#highest;
    const behind = expected !== undefined && highest !== undefined && ((highest - expected + 1) | 0) > 0;
    const advanced = highest !== undefined && this.#highestAtCheck !== undefined && ((highest - this.#highestAtCheck) | 0) > 0;
    this.#highestAtCheck = highest;
    const heard = this.#multicastSinceCheck > 0;
    this.#multicastSinceCheck = 0;
    if (heard || !behind) {
      this.periodsWithout = 0;
      this.advancingWithout = 0;
      this.#quietSince = undefined;
      return false;
    }
    this.#quietSince ??= now;
    this.periodsWithout++;
    this.advancingWithout = advanced ? this.advancingWithout + 1 : 0;
    const quietLongEnough = this.periodsWithout >= FALLBACK_QUIET_PERIODS && now - this.#quietSince >= FALLBACK_QUIET_MS;
    if (this.advancingWithout >= FALLBACK_ADVANCING_PERIODS || quietLongEnough) {
      this.wantUnicast = true;
      return true;
    }
    return false;
  }
}

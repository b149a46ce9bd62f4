/**
 * Flow and congestion control of one sending flow (spec/protocol.md §7.9): how many DATA
 * and COMMIT datagrams the sender may hand to the wire now, and when it may send the next.
 *
 * Timing: the controller is a paced rate (RFC 9002 §7.7), not a burst window. Tokens
 * accrue at `rate` datagrams per second up to `burst`; the sender's pump spends one per
 * datagram and, when none is left, sleeps until the next one accrues (`delayMs`). So a full
 * resync of a large segment leaves at a steady rate that a receiver's socket buffer absorbs,
 * instead of one burst that overflows it.
 *
 * The rate follows what the receiver reports (spec §7.9). Version 1 receivers report loss,
 * by NACK, and nothing else, so delivery is acknowledged implicitly: a datagram sent
 * `ackDelayMs` ago (a round trip plus the receiver's NACK Delay plus margin) whose sequence
 * no NACK named was delivered. While the flow actually uses its rate and that happens:
 * - slow start: the rate doubles every growth period (max(SRTT, 10 ms));
 * - congestion avoidance (after the first loss): it grows by `rate / 8` per period.
 * A NACK naming a sequence sent after the last decrease is a new loss event (RFC 9002 §7.3.2:
 * one reaction per round trip): the rate halves (LEDBAT/NORM-CC style multiplicative
 * decrease), never below `minRate`. A NACK for older sequences, sent before the decrease
 * could take effect, is the same event and changes nothing. The rate never exceeds `maxRate`
 * and does not grow while the flow is application-limited (RFC 9002 §7.8), so an idle flow
 * does not come back from idleness with a rate it never proved.
 *
 * No I/O, no timers: `now` comes in, numbers go out; unit-tested with a fake clock.
 */
import { seqGt } from '../udp/serial.js';

export interface FlowControlOptions {
  /** Starting rate, datagrams/s (default 8000: 64 datagrams per 8 ms). */
  initialRate?: number;
  /** Floor of the rate, datagrams/s (default 500: heartbeat-sized progress under any loss). */
  minRate?: number;
  /** Ceiling of the rate, datagrams/s (spec §12 Pace Rate, default 50 000). */
  maxRate?: number;
  /** Most tokens saved up: the largest burst, datagrams (default 64). */
  burst?: number;
  /** Shortest growth period, ms (default 10); the period is max(SRTT, this). */
  minPeriodMs?: number;
}

export interface FlowControlState {
  rate: number;
  phase: 'slow-start' | 'avoidance';
  lossEvents: number;
  /** Datagrams the flow was allowed but did not use in the last period (application-limited). */
  appLimited: boolean;
}

export class FlowControl {
  #rate: number;
  readonly #minRate: number;
  readonly #maxRate: number;
  readonly #burst: number;
  readonly #minPeriodMs: number;
  #tokens: number;
  #last: number;
  #phase: 'slow-start' | 'avoidance' = 'slow-start';
  #srttMs = 0;
  /** Start of the current growth period and what was sent in it. */
  #periodStart: number;
  #periodSent = 0;
  /** Highest sequence handed to the wire, and at the last decrease (spec: recovery_start). */
  #highestSent: number | undefined;
  #recoveryStart: number | undefined;
  #lossEvents = 0;
  #appLimited = false;

  constructor(now: number, options: FlowControlOptions = {}) {
    this.#maxRate = Math.max(1, options.maxRate ?? 50_000);
    this.#minRate = Math.min(this.#maxRate, Math.max(1, options.minRate ?? 500));
    this.#rate = Math.min(this.#maxRate, Math.max(this.#minRate, options.initialRate ?? 8000));
    this.#burst = Math.max(1, options.burst ?? 64);
    this.#minPeriodMs = Math.max(1, options.minPeriodMs ?? 10);
    this.#tokens = this.#burst;
    this.#last = now;
    this.#periodStart = now;
  }

  /** Current rate, datagrams per second. */
  get rate(): number {
    return this.#rate;
  }

  get state(): FlowControlState {
    return { rate: Math.round(this.#rate), phase: this.#phase, lossEvents: this.#lossEvents, appLimited: this.#appLimited };
  }

  /** A smoothed round-trip sample (spec §6.2), ms: sets the growth period. */
  setRtt(srttMs: number): void {
    if (Number.isFinite(srttMs) && srttMs >= 0) this.#srttMs = Math.min(srttMs, 10_000);
  }

  /** How long a datagram must go un-NACKed to count as delivered: RTT + NACK Delay + margin. */
  get ackDelayMs(): number {
    return this.#srttMs + 10 + this.#period();
  }

  #period(): number {
    return Math.max(this.#minPeriodMs, this.#srttMs);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
    this.#grow(now);
  }

  /**
   * End growth periods that are over. A period in which the flow sent at least half of what
   * its rate allowed, and which lies `ackDelayMs` in the past with no new loss since, was
   * acknowledged (implicitly): the rate grows. An application-limited period leaves it.
   */
  #grow(now: number): void {
    const period = this.#period();
    if (now - this.#periodStart < period + this.ackDelayMs) return;
    const allowed = (period * this.#rate) / 1000;
    this.#appLimited = this.#periodSent < allowed / 2;
    if (!this.#appLimited) {
      this.#rate = this.#phase === 'slow-start' ? this.#rate * 2 : this.#rate + this.#rate / 8;
      this.#rate = Math.min(this.#maxRate, this.#rate);
    }
    this.#periodStart = now;
    this.#periodSent = 0;
  }

  /** Datagrams that may be sent now (whole tokens). */
  available(now: number): number {
    this.#refill(now);
    return Math.floor(this.#tokens);
  }

  /** `count` datagrams were sent, the last with sequence `seq` (when it has one). */
  onSent(now: number, count: number, seq?: number): void {
    this.#refill(now);
    this.#tokens -= count;
    this.#periodSent += count;
    if (seq !== undefined && (this.#highestSent === undefined || seqGt(seq, this.#highestSent))) this.#highestSent = seq;
  }

  /** Milliseconds until the next token (0 when one is there). */
  delayMs(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
  }

  /**
   * spec §7.9: a NACK named `lowest` (its lowest sequence in this session). A loss of a
   * datagram sent after the last decrease is a new loss event: halve the rate. Returns
   * whether it was a new event.
   */
  onLoss(now: number, lowest: number): boolean {
    this.#refill(now);
    if (this.#recoveryStart !== undefined && !seqGt(lowest, this.#recoveryStart)) return false;
    this.#lossEvents++;
    this.#phase = 'avoidance';
    this.#rate = Math.max(this.#minRate, this.#rate / 2);
    this.#tokens = Math.min(this.#tokens, this.#burst / 2);
    this.#recoveryStart = this.#highestSent ?? lowest;
    // The growth period starts over: what was sent before the decrease proves nothing.
    this.#periodStart = now;
    this.#periodSent = 0;
    return true;
  }
}

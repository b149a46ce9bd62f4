/**
 * Protocol timers and their defaults (spec/protocol.md §8), derived from the scan interval
 * where the master's options do not set them. All of them run on the monotonic clock.
 */

export interface ProtocolTimers {
  /** Heartbeat period (spec: heartbeat_interval). */
  heartbeatMs: number;
  /** A peer silent this long is down (spec: liveness_timeout). */
  livenessMs: number;
  /** HELLO retry while joining (spec: hello_interval). */
  helloMs: number;
  /** Period of DIGEST for each outgoing flow (spec: digest_interval). */
  digestMs: number;
}

/** Defaults: heartbeat 1 s (or the scan interval when shorter), liveness 5 heartbeats but at least 1 s. */
export function defaultTimers(intervalMs: number, overrides: Partial<ProtocolTimers> = {}): ProtocolTimers {
  const heartbeatMs = overrides.heartbeatMs ?? Math.max(50, Math.min(1000, intervalMs));
  return {
    heartbeatMs,
    livenessMs: overrides.livenessMs ?? Math.max(1000, 5 * heartbeatMs),
    helloMs: overrides.helloMs ?? Math.min(1000, Math.max(100, heartbeatMs)),
    digestMs: overrides.digestMs ?? 30 * heartbeatMs,
  };
}

/** The low 32 bits of a monotonic millisecond clock, for heartbeat timestamps (spec §6.2). */
export function stamp32(nowMs: number): number {
  return Math.floor(nowMs) >>> 0;
}

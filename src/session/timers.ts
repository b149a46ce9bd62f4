/**
 * Protocol timers and their defaults (spec/protocol.md §8), derived from the scan interval
 * where the master's options do not set them. All of them run on the monotonic clock.
 */

export interface ProtocolTimers {
  /** spec §12 Heartbeat Ms (negotiated). */
  heartbeatMs: number;
  /** spec §12 Liveness Ms (negotiated): a peer silent this long is down. */
  livenessMs: number;
  /** spec §12 Digest Period (local). */
  digestMs: number;
}

/**
 * Defaults (spec §12): heartbeat 1 s, or the scan interval when that is shorter (at least
 * 50 ms), so a short -i also finds a lost tail quickly; liveness 5 heartbeats, at least 1 s;
 * digest period 30 s.
 */
export function defaultTimers(intervalMs: number, overrides: Partial<ProtocolTimers> = {}): ProtocolTimers {
  const heartbeatMs = overrides.heartbeatMs ?? Math.max(50, Math.min(1000, intervalMs));
  return {
    heartbeatMs,
    livenessMs: overrides.livenessMs ?? Math.max(1000, 5 * heartbeatMs),
    digestMs: overrides.digestMs ?? 30_000,
  };
}

/** spec §4.6: HELLO retry n (from 0): 500 ms doubling to 8 s, times a factor in [0.5, 1.5]. */
export function helloDelay(attempt: number, random: () => number = Math.random): number {
  return Math.min(8000, 500 * 2 ** Math.min(attempt, 4)) * (0.5 + random());
}

/** spec §6.2: a monotonic clock in microseconds modulo 2**32, for heartbeat timestamps. */
export function stampUs(nowMs: number): number {
  return Math.floor(nowMs * 1000) >>> 0;
}

/**
 * spec §6.2 RTT from an echo, ms: now - echo timestamp - echo delay (microseconds, modulo
 * 2**32), then smoothed as RFC 6298 does (alpha 1/8).
 */
export function smoothRtt(previousMs: number | undefined, nowMs: number, echo: { timestamp: number; delay: number }): number {
  const sampleMs = (((stampUs(nowMs) - echo.timestamp) >>> 0) - echo.delay) / 1000;
  const sample = sampleMs < 0 || sampleMs > 60_000 ? (previousMs ?? 100) : sampleMs;
  return previousMs === undefined ? sample : previousMs + (sample - previousMs) / 8;
}

/** A peer's heartbeat timestamps as this node tracks them for the RTT echo (spec §6.2). */
export interface EchoState {
  /** The peer's last heartbeat timestamp and when it arrived (monotonic ms). */
  peerStamp: { timestamp: number; at: number } | undefined;
  /** Smoothed round-trip time, ms. */
  rttMs: number | undefined;
}

/** The echo to put in our next heartbeat to this peer: its timestamp and how long we held it. */
export function echoFor(state: EchoState, nowMs: number): { timestamp: number; delay: number } | null {
  const p = state.peerStamp;
  return p ? { timestamp: p.timestamp, delay: Math.min(0xffffffff, Math.round((nowMs - p.at) * 1000)) } : null;
}

/** A heartbeat arrived: remember its timestamp; with an echo, update and return the RTT. */
export function heardHeartbeat(
  state: EchoState,
  msg: { timestamp: number; echo: { timestamp: number; delay: number } | null },
  nowMs: number,
): number | undefined {
  state.peerStamp = { timestamp: msg.timestamp, at: nowMs };
  if (!msg.echo) return undefined;
  state.rttMs = smoothRtt(state.rttMs, nowMs, msg.echo);
  return state.rttMs;
}

/**
 * A conformance case: one MUST or MUST NOT of spec/protocol.md, with its section, and a
 * run function that plays it against the implementation under test. Results are pass,
 * fail (what the spec expects and what was seen) or skip (why it could not be judged).
 */
import { HDR_FLAGS, HDR_FLOW, HDR_PACKET_NUMBER, HDR_VERSION } from '../udp/constants.js';
import type { Probe, Target } from './probe.js';
import type { MasterParams, RejectBudget } from './session.js';
import type { WireTally } from './wire-tally.js';

export type Outcome = { verdict: 'pass' } | { verdict: 'fail'; expected: string; seen: string } | { verdict: 'skip'; why: string };

export const pass: Outcome = { verdict: 'pass' };
export const fail = (expected: string, seen: string): Outcome => ({ verdict: 'fail', expected, seen });
export const skip = (why: string): Outcome => ({ verdict: 'skip', why });

/** What a case of `pdsm conformance master` gets: where the master is and what it accepts. */
export interface MasterContext {
  target: Target;
  params: MasterParams;
  /** The client id the cases join as (--client). */
  client: number;
  budget: RejectBudget;
  /** The master's registry folder (-d), when it runs on this host: cases then read its segments. */
  registryDir: string | null;
  /** What the master sent to every probe of the run so far. */
  tally: WireTally;
}

export interface Case<C> {
  /** Stable id, listed in spec Appendix C. */
  id: string;
  /** Section of spec/protocol.md, e.g. "4.3". */
  section: string;
  /** The requirement, with its MUST or MUST NOT. */
  requirement: string;
  run(ctx: C): Promise<Outcome>;
}

export type MasterCase = Case<MasterContext>;

/** What a case of `pdsm conformance remote` gets: the master port the remote under test talks to. */
export interface RemoteContext {
  /** The socket on the master port (--master-port); aimed at the remote its last HELLO came from. */
  probe: Probe;
  psk: Buffer | null;
  family: 4 | 6;
  /** The master epoch of the run (one master process: every session shares it, §7.1). */
  masterEpoch: number;
  /** The remote's registry folder (-d), when it runs on this host: cases then read its segments. */
  registryDir: string | null;
  /** How long to wait for the remote's first HELLO (--wait). */
  firstHelloMs: number;
  /** Arrivals before this index are spent: the next HELLO is searched from here. */
  cursor: number;
  /** Remote epochs of sessions this run ended: their late HELLOs are not new ones. */
  spent: Set<number>;
}

export type RemoteCase = Case<RemoteContext>;

/** Describe a message briefly for "seen". */
export function brief(m: { type: string } | undefined): string {
  if (m === undefined) return 'nothing';
  const r = m as { type: string; reason?: unknown; expected?: unknown; offered?: unknown };
  if (r.type === 'reject') return `REJECT ${String(r.reason)} (Expected ${hex(r.expected)}, Offered ${hex(r.offered)})`;
  return m.type.toUpperCase();
}

export const hex = (n: unknown): string => (typeof n === 'number' ? `0x${n.toString(16).padStart(4, '0')}` : String(n));

/** A change to a plain datagram that makes it one a receiver must drop, and what it is. */
export type WireFault = [what: string, mutate: (plain: Buffer) => Buffer];

/**
 * Faults any receiver must drop whatever the datagram's type (§3, §3.2, §10.1, §10.4): a
 * trailing byte, an undefined flag, a bad Flow, header Version 1, nonzero top bits of the
 * packet number. Both tools' malformed-dropped cases send these, then faults of their own.
 */
export const HEADER_FAULTS: readonly WireFault[] = [
  ['a trailing byte', (p) => Buffer.concat([p, Buffer.from([0])])],
  ['flag 0x04', (p) => ((p[HDR_FLAGS] = p[HDR_FLAGS]! | 0x04), p)],
  ['Flow 4', (p) => ((p[HDR_FLOW] = 4), p)],
  ['header Version 1', (p) => ((p[HDR_VERSION] = 1), p)],
  ['packet number top bits 0x0001', (p) => (p.writeUInt16BE(1, HDR_PACKET_NUMBER), p)],
];

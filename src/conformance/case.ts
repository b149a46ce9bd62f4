/**
 * A conformance case: one MUST or MUST NOT of spec/protocol.md, with its section, and a
 * run function that plays it against the implementation under test. Results are pass,
 * fail (what the spec expects and what was seen) or skip (why it could not be judged).
 */
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

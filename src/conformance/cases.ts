/**
 * Every case of `pdsm conformance`, in the order they run, and the runner that prints one
 * line per case and a summary. Spec Appendix C lists the same ids (a test keeps them equal).
 */
import type { MasterCase, Outcome, RemoteCase } from './case.js';
import { HANDSHAKE_CASES } from './cases-handshake.js';
import { MASTER_RECV_CASES } from './cases-master-recv.js';
import { MASTER_RO_CASES } from './cases-master-ro.js';
import { MASTER_WIRE_CASES } from './cases-master-wire.js';
import { REMOTE_AUTH_CASES } from './cases-remote-auth.js';
import { REMOTE_DIGEST_CASES } from './cases-remote-digest.js';
import { REMOTE_JOIN_CASES } from './cases-remote-join.js';
import { REMOTE_MO_CASES } from './cases-remote-mo.js';
import { REMOTE_SESSION_CASES } from './cases-remote-session.js';
import { REMOTE_WIRE_CASES } from './cases-remote-wire.js';
import { REPLICATION_CASES } from './cases-replication.js';
import { SESSION_CASES } from './cases-session.js';

/** `pdsm conformance master`: the wire cases last, over what the master sent to the others. */
export const MASTER_CASES: readonly MasterCase[] = [
  ...HANDSHAKE_CASES,
  ...SESSION_CASES,
  ...REPLICATION_CASES,
  ...MASTER_RECV_CASES,
  ...MASTER_RO_CASES,
  ...MASTER_WIRE_CASES,
];

/**
 * `pdsm conformance remote`: the wire cases judge what the remote sent in the cases before
 * them; config-reject-keeps-trying (it leaves the remote in its back-off) and
 * sealed-config-reject-final (it stops a remote with a PSK) last.
 */
export const REMOTE_CASES: readonly RemoteCase[] = [
  ...REMOTE_JOIN_CASES,
  ...REMOTE_AUTH_CASES,
  ...REMOTE_MO_CASES,
  ...REMOTE_DIGEST_CASES,
  ...REMOTE_SESSION_CASES.slice(0, -2),
  ...REMOTE_WIRE_CASES,
  ...REMOTE_SESSION_CASES.slice(-2),
];

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
}

/** What runCases returns: the counts and each case's outcome by id. */
export interface Run extends Summary {
  outcomes: Map<string, Outcome>;
}

/** One output line for a case's outcome. */
export function formatOutcome(c: { id: string; section: string }, o: Outcome): string {
  const head = `${o.verdict.padEnd(4)} §${c.section.padEnd(5)} ${c.id}`;
  if (o.verdict === 'fail') return `${head}: expected ${o.expected}; seen ${o.seen}`;
  if (o.verdict === 'skip') return `${head}: ${o.why}`;
  return head;
}

/** Run `cases` one after the other against `ctx`; a case that throws fails with its error. */
export async function runCases<C>(
  cases: readonly { id: string; section: string; run(ctx: C): Promise<Outcome> }[],
  ctx: C,
  write: (line: string) => void,
): Promise<Run> {
  const s: Run = { passed: 0, failed: 0, skipped: 0, outcomes: new Map() };
  for (const c of cases) {
    let o: Outcome;
    try {
      o = await c.run(ctx);
    } catch (err) {
      o = { verdict: 'fail', expected: 'the case to run', seen: `error: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (o.verdict === 'pass') s.passed++;
    else if (o.verdict === 'fail') s.failed++;
    else s.skipped++;
    s.outcomes.set(c.id, o);
    write(formatOutcome(c, o));
  }
  return s;
}

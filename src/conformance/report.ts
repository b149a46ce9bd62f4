/**
 * The requirements part of a `pdsm conformance` run: one line per MUST or MUST NOT of the
 * spec (REQUIREMENTS, Appendix C.3), judged by the outcomes of the cases that cover it for
 * this role, and a summary line. A requirement passes when a case of it passed and none
 * failed, fails when one failed, and is skipped (with why) when no case of it ran or all skipped.
 */
import type { Outcome } from './case.js';
import type { Summary } from './cases.js';
import { REQUIREMENTS, type Requirement } from './requirements.js';

export type Role = 'master' | 'remote';

/** The verdict on one requirement, from the outcomes of this run's cases. */
export function judge(r: Requirement, role: Role, outcomes: ReadonlyMap<string, Outcome>): Outcome {
  const cover = r[role];
  if (typeof cover === 'string') return { verdict: 'skip', why: cover };
  const ran = cover.filter((id) => outcomes.has(id));
  if (ran.length === 0) return { verdict: 'skip', why: `its cases did not run (--only): ${cover.join(', ')}` };
  const failed = ran.filter((id) => outcomes.get(id)!.verdict === 'fail');
  if (failed.length > 0) return { verdict: 'fail', expected: `${ran.join(', ')} to pass`, seen: `${failed.join(', ')} failed (above)` };
  if (ran.some((id) => outcomes.get(id)!.verdict === 'pass')) return { verdict: 'pass' };
  return { verdict: 'skip', why: `its cases skipped: ${ran.join(', ')} (above)` };
}

/** One line per requirement (indented, under a heading) and the summary line; returns the counts. */
export function reportRequirements(role: Role, outcomes: ReadonlyMap<string, Outcome>, write: (line: string) => void): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0 };
  write(`requirements of spec/protocol.md (Appendix C.3), as this run judged them:`);
  for (const r of REQUIREMENTS) {
    const o = judge(r, role, outcomes);
    const head = `  ${o.verdict.padEnd(4)} §${r.section.padEnd(5)} ${r.text}`;
    if (o.verdict === 'pass') {
      s.passed++;
      write(`${head} (${(r[role] as readonly string[]).join(', ')})`);
    } else if (o.verdict === 'fail') {
      s.failed++;
      write(`${head}: expected ${o.expected}; seen ${o.seen}`);
    } else {
      s.skipped++;
      write(`${head}: skipped, ${o.why}`);
    }
  }
  write(`${REQUIREMENTS.length} requirements: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  return s;
}

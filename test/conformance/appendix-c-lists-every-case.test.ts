// spec/protocol.md Appendix C lists exactly the cases `pdsm conformance` runs, in the same
// order, each with its section and requirement as the tool has them: C.1 those of
// `conformance master`, C.2 those of `conformance remote`.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MASTER_CASES, REMOTE_CASES } from '../../src/conformance/cases.js';
import { ROOT } from '../fixtures/daemon.js';

const md = readFileSync(join(ROOT, 'spec/protocol.md'), 'utf8');
const appendix = md.slice(md.indexOf('## Appendix C. Conformance cases'));
const c1 = appendix.slice(appendix.indexOf('### C.1 '), appendix.indexOf('### C.2 '));
const c2 = appendix.slice(appendix.indexOf('### C.2 '));

const rowsOf = (part: string) =>
  [...part.matchAll(/^\| ([a-z0-9-]+) \| §([\d.]+) \| (.*) \|$/gm)].map((m) => ({
    id: m[1],
    section: m[2],
    requirement: m[3]!.replaceAll('\\|', '|'),
  }));

for (const [name, part, cases] of [
  ['C.1 master', c1, MASTER_CASES],
  ['C.2 remote', c2, REMOTE_CASES],
] as const) {
  t.test(`Appendix ${name} has one row per case: id, section, requirement`, async (t) => {
    t.ok(appendix.startsWith('## Appendix C'), 'the appendix exists');
    t.ok(part.startsWith(`### ${name.slice(0, 3)} `), `${name.slice(0, 3)} exists`);
    const tool = cases.map((c) => ({ id: c.id, section: c.section, requirement: c.requirement }));
    t.same(
      rowsOf(part),
      tool,
      `the rows, as the tool has them:\n${tool.map((c) => `| ${c.id} | §${c.section} | ${c.requirement.replaceAll('|', '\\|')} |`).join('\n')}`,
    );
  });

  t.test(`every ${name} case names a section that exists and says MUST`, async (t) => {
    for (const c of cases) {
      const top = c.section.split('.')[0];
      t.match(md, new RegExp(`^#{2,3} ${c.section.replace('.', '\\.')}\\.? `, 'm'), `${c.id}: §${c.section} is a heading`);
      t.match(c.requirement, /\bMUST\b/, `${c.id} says MUST or MUST NOT`);
      t.ok(Number(top) >= 1 && Number(top) <= 13, `${c.id}: a numbered section`);
    }
    t.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'ids are unique');
  });
}

// spec/protocol.md Appendix C lists exactly the cases `pdsm conformance master` runs, in
// the same order, each with its section and requirement as the tool has them.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MASTER_CASES } from '../../src/conformance/cases.js';
import { ROOT } from '../fixtures/daemon.js';

const md = readFileSync(join(ROOT, 'spec/protocol.md'), 'utf8');
const appendix = md.slice(md.indexOf('## Appendix C. Conformance cases'));

t.test('Appendix C has one row per case: id, section, requirement', async (t) => {
  t.ok(appendix.startsWith('## Appendix C'), 'the appendix exists');
  const rows = [...appendix.matchAll(/^\| ([a-z0-9-]+) \| §([\d.]+) \| (.*) \|$/gm)].map((m) => ({
    id: m[1],
    section: m[2],
    requirement: m[3]!.replaceAll('\\|', '|'),
  }));
  const tool = MASTER_CASES.map((c) => ({ id: c.id, section: c.section, requirement: c.requirement }));
  t.same(rows, tool, `the rows, as the tool has them:\n${tool.map((c) => `| ${c.id} | §${c.section} | ${c.requirement.replaceAll('|', '\\|')} |`).join('\n')}`);
});

t.test('every case names a section that exists and says MUST', async (t) => {
  for (const c of MASTER_CASES) {
    const top = c.section.split('.')[0];
    t.match(md, new RegExp(`^#{2,3} ${c.section.replace('.', '\\.')} `, 'm'), `${c.id}: §${c.section} is a heading`);
    t.match(c.requirement, /\bMUST\b/, `${c.id} says MUST or MUST NOT`);
    t.ok(Number(top) >= 1 && Number(top) <= 13, `${c.id}: a numbered section`);
  }
  t.equal(new Set(MASTER_CASES.map((c) => c.id)).size, MASTER_CASES.length, 'ids are unique');
});

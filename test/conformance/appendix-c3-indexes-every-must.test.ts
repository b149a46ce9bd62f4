// Every MUST and MUST NOT of spec/protocol.md §3..§13 is a requirement of Appendix C.3 (and
// of src/conformance/requirements.ts, row for row): the row's words occur once in its
// section and every MUST of the section falls inside one row's words, so a MUST added,
// moved or reworded without its row fails here. Each row names, per role, cases that exist
// or says why that role's tool does not judge it; every case is named by a row of its own
// section (a case stands for a MUST of the section it names).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MASTER_CASES, REMOTE_CASES } from '../../src/conformance/cases.js';
import { REQUIREMENTS, type Cover } from '../../src/conformance/requirements.js';
import { ROOT } from '../fixtures/daemon.js';

const md = readFileSync(join(ROOT, 'spec/protocol.md'), 'utf8');
const body = md.slice(0, md.indexOf('## Appendix A'));
/** Section number → its text, whitespace collapsed (headings "## 3. " and "### 3.1 " alike). */
const sections = new Map<string, string>();
for (const part of body.split(/^(?=#{2,3} \d+(?:\.\d+)?\.? )/m).slice(1)) {
  const n = /^#{2,3} (\d+(?:\.\d+)?)\.? /.exec(part)![1]!;
  sections.set(n, part.replace(/\s+/g, ' '));
}

const coverCell = (c: Cover): string => (typeof c === 'string' ? c : c.map((id) => `\`${id}\``).join(', '));

t.test('every MUST of §3..§13 falls inside the words of one requirement of its section', async (t) => {
  let musts = 0;
  for (const [n, text] of sections) {
    if (n === '2') continue; // Conventions: defines the key words, requires nothing.
    const spans = REQUIREMENTS.filter((r) => r.section === n).map((r) => {
      const at = text.indexOf(r.text);
      return [at, at + r.text.length] as const;
    });
    for (const m of text.matchAll(/\bMUST\b/g)) {
      musts++;
      const inside = spans.some(([s, e]) => s >= 0 && m.index >= s && m.index < e);
      if (!inside) t.fail(`§${n}: no requirement holds the MUST in “…${text.slice(Math.max(0, m.index - 80), m.index + 80)}…”`);
    }
  }
  t.ok(musts >= REQUIREMENTS.length, `${musts} MUSTs, ${REQUIREMENTS.length} requirements`);
});

t.test('each requirement: its words once in its section, with MUST; its cases exist; its reasons are said', async (t) => {
  const ids = { master: new Set(MASTER_CASES.map((c) => c.id)), remote: new Set(REMOTE_CASES.map((c) => c.id)) };
  for (const r of REQUIREMENTS) {
    const text = sections.get(r.section);
    t.ok(text !== undefined, `§${r.section} exists`);
    t.match(r.text, /\bMUST\b/, `§${r.section} “${r.text}” says MUST`);
    const first = text?.indexOf(r.text) ?? -1;
    t.ok(first >= 0 && text!.indexOf(r.text, first + 1) < 0, `§${r.section} holds “${r.text}” exactly once`);
    for (const role of ['master', 'remote'] as const) {
      const c = r[role];
      if (typeof c === 'string') t.ok(c.length > 8, `§${r.section} “${r.text}”: ${role} says why not`);
      else for (const id of c) t.ok(ids[role].has(id), `§${r.section} “${r.text}”: ${role} case ${id} exists`);
    }
  }
});

t.test('every case stands for a requirement of its own section', async (t) => {
  for (const [role, cases] of [
    ['master', MASTER_CASES],
    ['remote', REMOTE_CASES],
  ] as const)
    for (const c of cases) {
      const rows = REQUIREMENTS.filter((r) => r.section === c.section && typeof r[role] !== 'string' && r[role].includes(c.id));
      t.ok(rows.length > 0, `${role} case ${c.id} (§${c.section}) is named by a requirement of §${c.section}`);
    }
});

t.test('Appendix C.3 has one row per requirement: section, words, master cases, remote cases', async (t) => {
  const c3 = md.slice(md.indexOf('### C.3 '));
  t.ok(c3.startsWith('### C.3 '), 'C.3 exists');
  const rows = [...c3.matchAll(/^\| §([\d.]+) \| (.*) \| (.*) \| (.*) \|$/gm)].map((m) => [m[1], m[2], m[3], m[4]]);
  const want = REQUIREMENTS.map((r) => [r.section, r.text, coverCell(r.master), coverCell(r.remote)]);
  t.same(rows, want, `the rows, as the tool has them:\n${want.map((w) => `| §${w.join(' | ')} |`).join('\n')}`);
});

// npm run check:circular (scripts/check-circular.mjs, run by .ci/run before npm test): it
// must see through our `.js`-suffixed TypeScript imports, or it would pass on anything.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const SCRIPT = join(import.meta.dirname, '../../scripts/check-circular.mjs');

async function check(...dirs: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [SCRIPT, ...dirs], { timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

t.test('a cycle through .js-suffixed imports, one of them type-only, fails the check and is named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdsm-cycle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = (): number => b;\n");
  await writeFile(join(dir, 'b.ts'), "import type { a } from './a.js';\nexport const b = 1;\nexport type A = typeof a;\n");
  await writeFile(join(dir, 'c.ts'), "import { a } from './a.js';\nexport const c = a;\n");
  const r = await check(dir);
  t.equal(r.code, 1);
  t.match(r.out, /import cycle: a\.ts -> b\.ts -> a\.ts/);
});

t.test('an import it cannot resolve fails the check too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdsm-cycle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.ts'), "import { gone } from './gone.js';\nexport const a = gone;\n");
  const r = await check(dir);
  t.equal(r.code, 1);
  t.match(r.out, /unresolved import: \.\/gone\.js/);
});

t.test('src/ has no import cycle', async (t) => {
  const r = await check();
  t.equal(r.code, 0, r.out);
  t.match(r.out, /no import cycle in \d+ files/);
});

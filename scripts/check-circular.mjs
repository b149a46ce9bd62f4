#!/usr/bin/env node
/**
 * npm run check:circular: fails (exit 1) on any import cycle among the TypeScript files under
 * the given folders (default: src), type-only imports included, and on any relative import it
 * cannot resolve (a cycle through an unresolved file would go unseen). madge resolves our
 * `.js`-suffixed imports to the `.ts` files through tsconfig.json (module nodenext).
 *
 * Usage: node scripts/check-circular.mjs [dir ...]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = process.argv.slice(2);
const targets = dirs.length > 0 ? dirs : [join(root, 'src')];

const graph = await madge(targets, {
  fileExtensions: ['ts'],
  tsConfig: join(root, 'tsconfig.json'),
  detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
});
const files = Object.keys(graph.obj()).length;
const cycles = graph.circular();
const skipped = graph.warnings().skipped;
for (const s of skipped) console.error(`unresolved import: ${s}`);
for (const c of cycles) console.error(`import cycle: ${[...c, c[0]].join(' -> ')}`);
if (cycles.length > 0 || skipped.length > 0) {
  console.error(`check:circular: ${cycles.length} cycle(s), ${skipped.length} unresolved import(s) in ${files} files`);
  process.exit(1);
}
console.log(`check:circular: no import cycle in ${files} files`);

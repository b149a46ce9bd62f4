// The byte-order-sensitive unit tests run on a big-endian node for real (issue 15): the word
// codec, the layout, the addon's segment calls, the scanner, and the wire vectors (page hashes
// of network-neutral pages, every message decoded and re-encoded). They run compiled, all in
// one emulated node (qemu starts slowly), with PDSM_TEST_NODE naming the emulator for the
// tests that start a child node. native-xxhash is left out: it checks our hashes against the
// xxhash-addon package's own binary, which has no s390x build; the vectors below check XXH64
// on s390x through the digest vector instead.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';
import { s390x } from '../fixtures/portability/platforms.js';

const COMPILED = join(ROOT, '.portability-js/test');
const platform = s390x();

t.test('the byte-order unit tests pass on an emulated s390x node', { skip: typeof platform === 'string' ? platform : false }, async (t) => {
  if (typeof platform === 'string') return;
  const files = [
    ...readdirSync(join(COMPILED, 'segments'))
      .filter((f) => f.endsWith('.test.js') && !f.startsWith('native-xxhash'))
      .map((f) => join(COMPILED, 'segments', f)),
    join(COMPILED, 'udp/digest-vector-hashes-network-neutral-pages.test.js'),
    join(COMPILED, 'udp/vectors-decode-and-reencode.test.js'),
  ];
  t.ok(files.length >= 12, `${files.length} test files`);
  const env = {
    ...process.env,
    ...platform.env,
    PDSM_TEST_NODE: JSON.stringify([platform.command, ...platform.prefix]),
    PDSM_TEST_EMULATION: 'qemu',
  };
  const runner = join(ROOT, 'test/fixtures/portability/run-files.mjs');
  const child = spawn(platform.command, [...platform.prefix, runner, ...files], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const bound = 600_000;
  const result = await new Promise<{ code: number | null; signal: string | null } | 'timeout'>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timeout');
    }, bound);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  // Run directly, tap prints plain TAP: a plan for the top-level tests, one `ok` line each.
  const plan = /^1\.\.(\d+)/m.exec(
    out
      .split('\n')
      .filter((l) => !l.startsWith(' '))
      .join('\n'),
  );
  const passed = out.split('\n').filter((l) => /^ok \d+/.test(l)).length;
  const failures = out.split('\n').filter((l) => /^\s*not ok/.test(l));
  t.not(result, 'timeout', `finished within ${bound / 1000} s`);
  t.same(result, { code: 0, signal: null }, `the emulated run exits 0 (stderr: ${err.slice(-600)})`);
  t.same(failures, [], 'no test failed under emulation');
  // One process imports every file: a file that ends tap's root early (a root-level teardown
  // does) makes tap refuse the later files' tests, which says so only on stderr.
  t.notMatch(err, /cannot create subtest after parent test ends/, 'every file could add its tests (none ended the root early)');
  t.ok(plan, `tap printed its plan (${plan?.[0] ?? out.slice(-300)})`);
  t.equal(passed, Number(plan?.[1]), `every top-level test passed (${passed} of ${plan?.[1]})`);
  t.ok(passed >= 50, `the whole set ran (${passed} top-level tests)`);
  for (const skip of out.split('\n').filter((l) => /# SKIP|mode not checked/.test(l))) t.comment(`under emulation: ${skip.trim()}`);
});

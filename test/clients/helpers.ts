/**
 * Helpers for the client-library tests: is there a C compiler or python3, build libpdsm
 * into a private folder (tests run in parallel, so never into clients/c/build), run a
 * program and turn its "ok N - ..." lines into tap assertions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { ROOT } from '../fixtures/daemon.js';

export const C_DIR = join(ROOT, 'clients/c');
export const PY_DIR = join(ROOT, 'clients/python');

/** False, or the reason a test that needs `tool` must skip. */
export function missing(tool: 'cc' | 'make' | 'python3' | 'pkg-config'): false | string {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${tool} is not installed`;
}

/** The first reason among several tools, or false. */
export function missingAny(...tools: ('cc' | 'make' | 'python3' | 'pkg-config')[]): false | string {
  for (const tool of tools) {
    const why = missing(tool);
    if (why) return why;
  }
  return false;
}

/** `make -C clients/c BUILD=<build> targets...`; returns the build folder. */
export function makeLib(build: string, targets: string[] = ['all', 'tests'], vars: string[] = []): string {
  execFileSync('make', ['-s', '-C', C_DIR, `BUILD=${build}`, ...vars, ...targets], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return build;
}

/**
 * Turn TAP-like output ("ok 3 - text", "not ok 4 - text") into one assertion per line, and
 * check that the program said how many passed. Returns the number of lines seen.
 */
export function assertLines(t: Test, output: string, status: number | null): number {
  let n = 0;
  for (const m of output.matchAll(/^(not )?ok \d+ - (.*)$/gm)) {
    n++;
    t.ok(m[1] === undefined, m[2]!);
  }
  t.equal(status, 0, `the program exited 0 (output:\n${output.slice(-2000)})`);
  return n;
}

import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';

// A test runner's timeout ends a test file with SIGTERM, whose default action skips 'exit'
// handlers: daemons the file started (src/cli/launch.ts) outlived it, holding segments and
// ports (seen: two 256 MiB daemons left by a timed-out cluster test). With
// endChildrenOnSignals (test/fixtures/daemon.ts calls it) the kit ends its children on
// SIGTERM, SIGHUP and SIGALRM (tap's own timeout), then the process dies of the same signal;
// and at 'exit' (tap reports a timeout, then exits) it ends them too. The child node here runs
// with the runner's own signal handler (tap's loaders in NODE_OPTIONS) as a test file does.
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const signal of ['SIGTERM', 'SIGHUP', 'SIGALRM'] as const) {
  t.test(`on ${signal}, a program that started children through the kit ends them and dies of ${signal}`, async (t) => {
    const script = `
      import { endChildrenOnSignals, makePlace, spawnProcess } from ${JSON.stringify(join(ROOT, 'dist/src/cli/launch.js'))};
      endChildrenOnSignals();
      const place = makePlace({ prefix: 'pdsm-sigtest-', keyBase: 0x1e5a0000 /* below every test, bench and demo key range */, port: 1, maxClients: 1 });
      const p = spawnProcess('sleep', ['120']);
      process.stdout.write(p.pid + ' ' + place.dir + '\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => parent.kill('SIGKILL'));
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => parent.on('exit', (_code, sig) => r(sig)));
    const deadline = Date.now() + 30_000;
    while (!/^\d+ \S+\n/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [pid, dir] = out.trim().split(' ');
    const child = Number(pid);
    t.ok(dir !== undefined && existsSync(dir), `its place exists (${dir})`);
    t.ok(child > 0 && alive(child), `the child runs (pid ${child})`);
    t.teardown(() => {
      if (alive(child)) process.kill(child, 'SIGKILL');
    });
    parent.kill(signal);
    t.equal(await exited, signal, `the parent died of ${signal}`);
    for (let i = 0; i < 250 && alive(child); i++) await new Promise((r) => setTimeout(r, 20));
    t.notOk(alive(child), 'and its child is gone');
    t.notOk(existsSync(dir!), 'and so is its place');
  });
}

t.test('at exit, a program that started children through the kit ends them and removes its places', async (t) => {
  const script = `
    import { endChildrenOnSignals, makePlace, spawnProcess } from ${JSON.stringify(join(ROOT, 'dist/src/cli/launch.js'))};
    endChildrenOnSignals();
    const place = makePlace({ prefix: 'pdsm-exittest-', keyBase: 0x1e5b0000 /* below every test, bench and demo key range */, port: 1, maxClients: 1 });
    const p = spawnProcess('sleep', ['120']);
    process.stdout.write(p.pid + ' ' + place.dir + '\\n', () => process.exit(3));`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => parent.kill('SIGKILL'));
  let out = '';
  parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => parent.on('exit', (c) => r(c)));
  t.equal(code, 3, 'the program exited with its own code');
  const [pid, dir] = out.trim().split(' ');
  const child = Number(pid);
  t.ok(child > 0 && dir !== undefined, `it had started a child (${out.trim()})`);
  t.teardown(() => {
    if (alive(child)) process.kill(child, 'SIGKILL');
  });
  for (let i = 0; i < 250 && alive(child); i++) await new Promise((r) => setTimeout(r, 20));
  t.notOk(alive(child), 'its child is gone');
  t.notOk(existsSync(dir!), 'and so is its place');
});

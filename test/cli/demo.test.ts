import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT } from '../fixtures/daemon.js';
import { join } from 'node:path';

const DEMO = join(ROOT, 'bin/pdsm-demo.js');

function leftovers(output: string): { dir: string; keyHex: string } {
  const m = /registry (\S+), key base 0x([0-9a-f]+)/.exec(output);
  if (!m) throw new Error(`no registry line in:\n${output}`);
  return { dir: m[1]!.replace(/,$/, ''), keyHex: m[2]!.slice(0, 4) };
}

/** Run the demo; with stopWhen, send SIGINT once its output matches (bounded by the 60 s kill). */
function run(args: string[], stopWhen?: RegExp): Promise<{ code: number | string; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let interrupted = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (stopWhen && !interrupted && stopWhen.test(out)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(kill);
      resolve({ code: code ?? signal ?? 'unknown', out });
    });
  });
}

t.test('npm start -- --duration 3 runs a cluster, shows every remote up, ends by itself and cleans up', async (t) => {
  const { code, out } = await run(['--duration', '3', '--remotes', '2']);
  t.equal(code, 0, out);
  t.match(out, /remote {2}state \| MO: master -> remote/);
  t.match(out, /\n {5}0 {2}up {4}\|/);
  t.match(out, /\n {5}1 {2}up {4}\|/);
  t.match(out, /stopping \(3 s elapsed\)/);
  const { dir, keyHex } = leftovers(out);
  t.notOk(existsSync(dir), 'registry folder removed');
  t.notMatch(execFileSync('ipcs', ['-m'], { encoding: 'utf8' }), new RegExp(`0x${keyHex}`), 'no segment of the demo left');
});

t.test('Ctrl-C stops the demo, ends the daemons and removes the segments', async (t) => {
  // Ctrl-C once the demo shows its remote up, however long the start takes on this machine.
  const { code, out } = await run(['--remotes', '1'], /\n {5}0 {2}up {4}\|/);
  t.equal(code, 0, out);
  t.match(out, /stopping \(Ctrl-C\)/);
  const { dir, keyHex } = leftovers(out);
  t.notOk(existsSync(dir));
  t.notMatch(execFileSync('ipcs', ['-m'], { encoding: 'utf8' }), new RegExp(`0x${keyHex}`));
  t.notMatch(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }), new RegExp(dir.replace(/[/.]/g, '\\$&')), 'no daemon of the demo still runs');
});

t.test('a bad demo option exits 2 naming it', async (t) => {
  const { code, out } = await run(['--remotes', '99']);
  t.equal(code, 2);
  t.match(out, /--remotes: 99 is out of range 1\.\.16/);
});

import t from 'tap';
import { spawn } from 'node:child_process';
import { renderWatch } from '../../src/cli/pdsm-watch.js';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('renderWatch marks exactly the values that differ from the previous view', async (t) => {
  const before = Buffer.alloc(32);
  const after = Buffer.from(before);
  after.writeBigUInt64LE(77n, 8);
  after[31] = 1;
  t.same(
    renderWatch(after, undefined, 0x40, 'u64', (v) => `[${v}]`),
    [{ text: '00000040: 0 77 0 72057594037927936', changed: false }],
    'first view: nothing marked',
  );
  t.same(
    renderWatch(after, before, 0x40, 'u64', (v) => `[${v}]`),
    [{ text: '00000040: 0 [77] 0 [72057594037927936]', changed: true }],
  );
  t.same(
    renderWatch(after, before, 0, 'hex', (v) => `${v}*`).map((l) => l.text),
    ['00000000: 00 00 00 00 00 00 00 00 4d* 00 00 00 00 00 00 00', '00000010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01*'],
  );
  t.same(
    renderWatch(after, after, 0, 'u32', (v) => `${v}*`).map((l) => l.changed),
    [false, false],
    'no change, no mark',
  );
});

t.test('pdsm watch without a terminal prints the first view, then only what changed', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1', '-P', '9']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);

  const watch = spawn(process.execPath, [BIN.pdsm, 'watch', 'RO', '-d', place.dir, '--client', '0', '--length', '32', '--as', 'u32', '--interval', '50'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => watch.kill('SIGKILL'));
  let out = '';
  watch.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => watch.on('exit', (code) => r(code)));
  const until = async (re: RegExp): Promise<void> => {
    for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 25));
  };

  await until(/^00000010: /m);
  t.equal(out, '00000000: 0 0 0 0\n00000010: 0 0 0 0\n', "the first view is dump's");
  t.equal(runBin(BIN.pdsm, ['poke', 'RO', '-d', place.dir, '--client', '0', '--offset', '24', '--u32', '1234']).status, 0);
  await until(/1234\*/);
  t.match(out, /^00000000: 0 0 0 0\n00000010: 0 0 0 0\n-- \d{4}-\d\d-\d\dT[\d:.]+Z\n00000010: 0 0 1234\* 0\n$/, 'then only the changed line, the value marked');
  t.notMatch(out, /^00000000: .*\*/m, 'the unchanged line is not repeated');

  watch.kill('SIGINT');
  t.equal(await exited, 0, 'Ctrl-C (SIGINT) ends watch with 0');
});

t.test('pdsm watch --count stops after that many views', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1', '-P', '9']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);
  const r = runBin(BIN.pdsm, ['watch', 'MO', '-d', place.dir, '--client', '0', '--offset', '0x10', '--length', '16', '--interval', '20', '--count', '3']);
  t.equal(r.status, 0);
  t.equal(r.stdout, '00000010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n');
});

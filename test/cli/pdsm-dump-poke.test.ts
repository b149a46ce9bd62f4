import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

const haveCc = spawnSync('cc', ['--version']).status === 0;

t.test("pdsm poke and dump round-trip through a remote's RO and MO, and the C example sees the same bytes", async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '2', '-H', '127.0.0.1']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);
  const d = ['-d', place.dir];

  t.equal(runBin(BIN.pdsm, ['poke', 'RO', ...d, '--client', '2', '--offset', '16', '--u64', '9007199254740993']).status, 0);
  t.equal(runBin(BIN.pdsm, ['dump', 'RO', ...d, '--client', '2', '--offset', '16', '--length', '8', '--as', 'u64']).stdout, '00000010: 9007199254740993\n');
  t.equal(runBin(BIN.pdsm, ['poke', 'ro', ...d, '--client', '2', '--offset', '0x20', '--hex', 'deadbeef']).status, 0);
  t.equal(runBin(BIN.pdsm, ['dump', 'RO', ...d, '--client', '2', '--offset', '32', '--length', '4']).stdout, '00000020: de ad be ef\n');

  await t.test('the C example loads what poke stored and dump shows what the C example stored', { skip: haveCc ? false : 'no C compiler (cc)' }, async (t) => {
    const exe = join(place.dir, 'pdsm_example');
    execFileSync('cc', ['-O2', '-o', exe, join(ROOT, 'examples/c/pdsm_example.c')]);
    t.equal(execFileSync(exe, [...d, '-n', '2', 'load', 'RO', '16'], { encoding: 'utf8' }).trim(), '9007199254740993', 'the C example sees the poke');
    execFileSync(exe, [...d, '-n', '2', 'store', 'MO', '8', '77']);
    t.equal(
      runBin(BIN.pdsm, ['dump', 'MO', ...d, '--client', '2', '--offset', '8', '--length', '8', '--as', 'u64']).stdout,
      '00000008: 77\n',
      'dump sees the C store',
    );
  });
});

t.test('every bad pdsm argument exits 2 and names the problem', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);
  const d = ['-d', place.dir, '--client', '0'];
  const cases: [string[], RegExp][] = [
    [['frob'], /unknown command "frob"/],
    [['dump'], /dump needs a segment/],
    [['dump', 'XX', ...d], /SEG: "XX" is not one of MO, RO, BC, ST/],
    [['dump', 'MO', ...d, '--as', 'u16'], /--as: "u16" is not one of/],
    [['dump', 'MO', ...d, '--offset', '-1'], /option --offset needs a value/],
    [['dump', 'MO', ...d, '--offset', 'ten'], /--offset: "ten" is not a non-negative whole number/],
    [['poke', 'MO', ...d, '--u32', '1'], /poke needs --offset/],
    [['poke', 'MO', ...d, '--offset', '0'], /exactly one of --u32, --u64, --f64 or --hex/],
    [['poke', 'MO', ...d, '--offset', '0', '--u32', '4294967296'], /--u32: 4294967296 does not fit in 32 unsigned bits/],
    [['poke', 'MO', ...d, '--offset', '0', '--hex', 'abc'], /--hex: "abc" is not an even number of hex digits/],
    [['poke', 'MO', ...d, '--offset', '0', '--f64', 'pi'], /--f64: "pi" is not a number/],
    [['dump', 'MO', ...d, '--slice', '0'], /--slice applies to the master's segments/],
    [['dump', 'MO', ...d, '--bogus'], /unknown option --bogus/],
  ];
  for (const [args, message] of cases) {
    const r = runBin(BIN.pdsm, args);
    t.equal(r.status, 2, `${args.join(' ')} exits 2`);
    t.match(r.stderr, message, args.join(' '));
  }
  const out = runBin(BIN.pdsm, ['dump', 'MO', ...d, '--offset', '4090', '--length', '8']);
  t.equal(out.status, 2, 'a range past the end exits 2');
  t.match(out.stderr, /bytes 4090\.\.4097 are outside MO of remote 0 \(4096 bytes\)/);
  const poke = runBin(BIN.pdsm, ['poke', 'MO', ...d, '--offset', '4092', '--u64', '1']);
  t.equal(poke.status, 2);
  t.match(poke.stderr, /outside MO of remote 0/);
  const missing = runBin(BIN.pdsm, ['dump', 'MO', '-d', place.dir, '--client', '5']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /pdsm_registry_client_5 does not exist/);
});

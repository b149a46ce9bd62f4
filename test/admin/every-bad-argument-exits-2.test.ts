import t from 'tap';
import { BIN, runBin, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('every bad argument of status, top and watch exits 2 and names the problem', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1', '-P', '9']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);
  const d = ['-d', place.dir];
  const w = [...d, '--client', '0'];
  const cases: [string[], RegExp][] = [
    [['status', ...d, '--client', 'x'], /--client: "x" is not a whole number/],
    [['status', ...d, '--client', '-1'], /option --client needs a value/],
    [['status', ...d, '--client', '20000'], /--client: 20000 is out of range 0\.\.16383/],
    [['status', ...d, 'extra'], /unexpected argument "extra"/],
    [['status', ...d, '--jsn'], /unknown option --jsn/],
    [['status', '-d'], /option -d needs a value/],
    [['top', ...d, '--interval', '5'], /--interval: 5 is out of range 100\.\.60000/],
    [['top', ...d, '--json'], /unknown option --json/],
    [['watch'], /watch needs a segment/],
    [['watch', 'XX', ...w], /SEG: "XX" is not one of MO, RO, BC, ST/],
    [['watch', 'MO', ...w, '--as', 'u16'], /--as: "u16" is not one of/],
    [['watch', 'MO', ...w, '--offset', 'ten'], /--offset: "ten" is not a non-negative whole number/],
    [['watch', 'MO', ...w, '--interval', '0'], /--interval: 0 is out of range 10\.\.3600000/],
    [['watch', 'MO', ...w, '--count', 'many'], /--count: "many" is not a whole number/],
    [['watch', 'MO', ...w, '--count', '0'], /--count: 0 is out of range/],
    [['watch', 'MO', ...w, '--u64', '1'], /unknown option --u64/],
    [['watch', 'MO', ...w, '--slice', '0'], /--slice applies to the master's segments/],
    [['watch', 'MO', ...w, '--length', '0'], /--length: 0 bytes is nothing to watch/],
    [['watch', 'MO', ...w, '--offset', '4090', '--length', '8'], /bytes 4090\.\.4097 are outside MO of remote 0 \(4096 bytes\)/],
    [['watch', 'MO', ...w, '--length', '12', '--as', 'u64'], /--length: 12 is not a whole number of u64 values/],
    [['flush', '--slice', '1', '--bc'], /--slice and --bc: give one of them/],
    [['flush', '--client', '1', '--bc'], /--slice and --bc name flows of the master: not with --client/],
    [['flush', '--timeout', '0'], /--timeout: 0 is out of range/],
    [['frob'], /unknown command "frob" \(status, top, flush, dump, poke, watch, conformance\)/],
  ];
  for (const [args, message] of cases) {
    const r = runBin(BIN.pdsm, args, { timeoutMs: 10_000 });
    t.equal(r.status, 2, `${args.join(' ')} exits 2`);
    t.match(r.stderr, message, args.join(' '));
    t.equal(r.stdout, '', 'and prints nothing on stdout');
  }
});

t.test('pdsm -h lists every command', async (t) => {
  const r = runBin(BIN.pdsm, ['-h']);
  t.equal(r.status, 0);
  for (const command of ['status', 'top', 'dump', 'poke', 'watch']) t.match(r.stdout, new RegExp(`^  ${command} `, 'm'), command);
  t.equal(runBin(BIN.pdsm, []).status, 2, 'no command is a usage error');
});

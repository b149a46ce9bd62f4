// `pdsm conformance`: every bad argument exits 2 naming it; --list prints the cases;
// a master that does not answer, or a remote that never says HELLO, is a runtime failure
// (exit 1), not a pass.
import t from 'tap';
import { MASTER_CASES, REMOTE_CASES } from '../../src/conformance/cases.js';
import { freeUdpPort } from '../../src/cli/launch.js';
import { BIN, runBin } from '../fixtures/daemon.js';

const run = (...args: string[]) => runBin(BIN.pdsm, ['conformance', ...args]);

t.test('bad arguments exit 2 and name the argument', async (t) => {
  const cases: [string[], RegExp][] = [
    [['master', '--port', '1'], /--host/],
    [['master', '--host', '127.0.0.1'], /--port/],
    [['master', '--host', '127.0.0.1', '--port', '70000'], /--port/],
    [['master', '--host', '127.0.0.1', '--port', 'x'], /--port/],
    [['master', '--host', '127.0.0.1', '--port', '1', '--client', '16384'], /--client/],
    [['master', '--only', 'no-such-case', '--list'], /--only: no case "no-such-case"/],
    [['master', '--frobnicate'], /--frobnicate/],
    [['master', '-y', '4', '--host', 'h', '--port', '1'], /-y/],
    [['slave'], /role "slave"/],
    [[], /role ""/],
    [['remote', '--listen-port', '1'], /--listen-port/],
    [['remote'], /--master-port/],
    [['remote', '--master-port', '0'], /--master-port/],
    [['remote', '--master-port', '1', '--wait', '0'], /--wait/],
    [['remote', '--master-port', '1', '--host', 'h'], /--host: only for "conformance master"/],
    [['master', '--host', 'h', '--port', '1', '--master-port', '2'], /--master-port: only for "conformance remote"/],
    [['remote', '--only', 'hello-welcome-fields', '--list'], /--only: no case "hello-welcome-fields"/],
  ];
  for (const [args, named] of cases) {
    const r = run(...args);
    t.equal(r.status, 2, `${args.join(' ')}: exit 2 (${r.stderr.trim()})`);
    t.match(r.stderr, named, `${args.join(' ')}: names the argument`);
  }
});

t.test('--list prints every case with its section and requirement, and runs nothing', async (t) => {
  const r = run('master', '--list');
  t.equal(r.status, 0, r.stderr);
  t.same(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('  ')[0]),
    MASTER_CASES.map((c) => c.id),
  );
  t.match(r.stdout, /^reject-version-expected-offered {2}§4\.3 {2}A master MUST answer/m);
});

t.test('a master that does not answer: exit 1, saying so', async (t) => {
  const port = await freeUdpPort();
  const r = run('master', '--host', '127.0.0.1', '--port', String(port));
  t.equal(r.status, 1, r.stdout + r.stderr);
  t.match(r.stderr, new RegExp(`no answer to HELLO from the master at 127\\.0\\.0\\.1:${port}`));
  t.notMatch(r.stdout, /^pass /m, 'no case is reported as passed');
});

t.test('remote --list prints the remote cases', async (t) => {
  const r = run('remote', '--list');
  t.equal(r.status, 0, r.stderr);
  t.same(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('  ')[0]),
    REMOTE_CASES.map((c) => c.id),
  );
  t.match(r.stdout, /^cookie-echoed {2}§9\.6 {2}A remote MUST echo/m);
});

t.test('no remote says HELLO: exit 1, saying so', async (t) => {
  const port = await freeUdpPort();
  const r = run('remote', '--master-port', String(port), '--wait', '1');
  t.equal(r.status, 1, r.stdout + r.stderr);
  t.match(r.stderr, new RegExp(`no HELLO from a remote on 127\\.0\\.0\\.1:${port} within 1 s`));
  t.notMatch(r.stdout, /^(pass|fail) /m, 'no case is reported');
});

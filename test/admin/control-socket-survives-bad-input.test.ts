import t from 'tap';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';
import { statusJson } from '../fixtures/admin.js';

/** Connect, send `data`, collect what comes back until the daemon closes or `waitMs` passes. */
function exchange(path: string, data: string, waitMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    let got = '';
    const done = (): void => {
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, waitMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(data));
    s.on('data', (c: string) => (got += c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      done();
    });
  });
}

t.test('the control socket answers bad requests with an error line and keeps serving', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1', '-P', '9']);
  t.teardown(() => remote.stop('SIGKILL'));
  await remote.waitFor(/running/);
  const path = join(place.dir, 'pdsm_remote_0.sock');

  t.same(JSON.parse(await exchange(path, 'hello\n')), { error: 'request is not JSON' });
  t.same(JSON.parse(await exchange(path, '{"cmd":"reboot"}\n')), { error: 'unknown command "reboot" (status, flush)' });
  t.same(JSON.parse(await exchange(path, 'null\n')), { error: 'unknown command null (status, flush)' });
  t.same(JSON.parse(await exchange(path, '[1,2]\n')), { error: 'unknown command null (status, flush)' });
  t.match(JSON.parse(await exchange(path, '\u0000\u00ff\n')), { error: String });
  t.same(JSON.parse(await exchange(path, '{"cmd":"flush","flow":"xx","id":7}\n')), { id: 7, error: 'flow must be "mo", "bc" or "ro", got "xx"' });
  t.same(JSON.parse(await exchange(path, '{"cmd":"flush","client":-1}\n')), { error: 'client must be an integer 0..16383, got -1' });
  t.same(JSON.parse(await exchange(path, '{"cmd":"flush","wait":1}\n')), { error: 'wait must be true or false, got 1' });
  t.same(JSON.parse(await exchange(path, '{"cmd":"flush","flow":"mo","id":"a"}\n')), {
    id: 'a',
    error: 'a remote sends only RO: flush "ro" (or no flow), without a client',
  });
  t.same(
    JSON.parse(await exchange(path, '{"cmd":"flush","id":1}\n')),
    { id: 1, flushed: [{ flow: 'ro', outcome: 'down', pages: 0 }] },
    'a flush without a session to send to is answered: down',
  );

  const two = (await exchange(path, '{"cmd":"status"}\n{"cmd":"status"}\n')).trim().split('\n');
  t.equal(two.length, 2, 'one answer line per request line');
  for (const line of two) t.equal((JSON.parse(line) as { role: string }).role, 'remote');

  const long = await exchange(path, 'x'.repeat(100_000), 2000);
  t.match(long, /request longer than 4096 bytes/, 'an endless line is cut off');

  // More connections than the daemon serves at once, some left half-written.
  const idle: Socket[] = [];
  for (let i = 0; i < 40; i++) {
    const s = createConnection(path);
    s.on('error', () => undefined);
    s.write('{"cmd":');
    idle.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const s of idle) s.destroy();
  await new Promise((r) => setTimeout(r, 100));

  t.equal(statusJson(place.dir, 0).pid, remote.pid, 'status still answers');
  t.equal(remote.child.exitCode, null, 'the daemon is still running');
  t.notMatch(remote.stderr(), /uncaught error|control socket error/, 'and logged no error about it');
});

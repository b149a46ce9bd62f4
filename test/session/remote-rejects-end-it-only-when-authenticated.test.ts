import t from 'tap';
import { REJECT_BACKOFF_MAX_MS } from '../../src/session/remote-session.js';
import { RemoteState } from '../../src/session/states.js';
import { REMOTE_EPOCH, remoteHarness, reject } from '../fixtures/session-harness.js';

t.test('without a key a REJECT seg-size never ends the remote: it logs, shows why and retries with back-off up to 30 s', async (t) => {
  const h = remoteHarness();
  h.io.take();
  h.deliver(reject(REMOTE_EPOCH, 'seg-size', 4096, 8192));
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.failures, []);
  t.match(h.core.problem, /seg-size.*the master has 4096, this remote has 8192/);
  t.ok(h.io.logs.some((l) => l.level === 'error' && /rejected this remote \(seg-size\)/.test(l.text)));
  const gaps: number[] = [];
  let last = h.clock.now();
  for (let i = 0; i < 12; i++) {
    while (h.io.sent.length === 0) h.advance(100);
    gaps.push(h.clock.now() - last);
    last = h.clock.now();
    h.io.take();
    h.deliver(reject(REMOTE_EPOCH, 'seg-size', 4096, 8192));
  }
  t.ok(gaps[0]! >= 500 && gaps[0]! <= 1500, `first retry after ${gaps[0]} ms`);
  t.ok(
    gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! || g >= REJECT_BACKOFF_MAX_MS - 100),
    `growing: ${gaps.join(', ')}`,
  );
  t.ok(Math.max(...gaps) <= REJECT_BACKOFF_MAX_MS + 100, 'bounded by 30 s');
});

t.test('a version REJECT shows both ranges', async (t) => {
  const h = remoteHarness();
  h.deliver(reject(REMOTE_EPOCH, 'version', 0x0101, 0x0203));
  t.match(h.core.problem, /protocol version: the master has 1\.\.1, this remote has 2\.\.3/);
});

t.test('REJECT auth-required (always unsealed) makes the remote say what to do, and keep trying', async (t) => {
  const h = remoteHarness();
  h.deliver(reject(REMOTE_EPOCH, 'auth-required'));
  t.equal(h.core.state, RemoteState.JOINING);
  t.match(h.core.problem, /start this remote with --psk-file/);
});

t.test('with a key, a (sealed) REJECT seg-size ends the remote: FAILED, exit 1 naming both values', async (t) => {
  const h = remoteHarness({ sealed: true });
  h.deliver(reject(REMOTE_EPOCH, 'seg-size', 4096, 8192));
  t.equal(h.core.state, RemoteState.FAILED);
  t.match(h.failures, [{ code: 'PDSM_ERR_REJECTED', message: /segment size \(-s\): the master has 4096, this remote has 8192/ }]);
});

t.test('REJECT duplicate and unavailable: retry on the normal schedule', async (t) => {
  const h = remoteHarness({ sealed: true });
  h.deliver(reject(REMOTE_EPOCH, 'duplicate'));
  h.deliver(reject(REMOTE_EPOCH, 'unavailable'));
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.failures, []);
  t.equal(h.core.problem, undefined);
});

t.test('a REJECT for another epoch is ignored', async (t) => {
  const h = remoteHarness({ sealed: true });
  h.deliver(reject(REMOTE_EPOCH + 1, 'seg-size'));
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.io.drops, ['stale-reject']);
});

// spec §4.3, §4.6, §13: what a remote says about a REJECT (its log line and `pdsm status`'s
// problem), when it says HELLO again after one, and its warning when the master never answers.
import t from 'tap';
import type { RejectMessage } from '../../src/udp/codec.js';
import { rejectDetail } from '../../src/session/remote-session.js';
import { RemoteState } from '../../src/session/states.js';
import { MASTER_EPOCH, REMOTE_EPOCH, remoteHarness, reject } from '../fixtures/session-harness.js';

const r = (reason: RejectMessage['reason'], expected = 0, offered = 0, text: string | null = null): RejectMessage => ({
  ...(reject(REMOTE_EPOCH, reason, expected, offered) as RejectMessage),
  text,
});

t.test('each configuration REJECT names the setting and both values', async (t) => {
  const rejected = (reason: string, what: string) => `the master rejected this remote (${reason}): ${what}: the master has 4096, this remote has 8192`;
  t.equal(rejectDetail(r('seg-size', 4096, 8192)), rejected('seg-size', 'segment size (-s)'));
  t.equal(rejectDetail(r('page-size', 4096, 8192)), rejected('page-size', 'page size (--page-size)'));
  t.equal(rejectDetail(r('word-size', 4096, 8192)), rejected('word-size', 'word size (-w)'));
  t.equal(rejectDetail(r('bc-size', 4096, 8192)), rejected('bc-size', 'broadcast size'));
  t.equal(rejectDetail(r('client-id', 4096, 8192)), rejected('client-id', 'client id (-n)'));
  t.equal(
    rejectDetail(r('version', 0x0102, 0x0304)),
    'the master rejected this remote (version): protocol version: the master has 1..2, this remote has 3..4',
    'versions as min..max',
  );
});

t.test('other REJECTs say their text, or their reason without one; auth-required says what to do', async (t) => {
  t.equal(rejectDetail(r('address', 0, 0, 'not from here')), 'the master rejected this remote (address): not from here');
  t.equal(rejectDetail(r('address')), 'the master rejected this remote (address): address');
  t.equal(rejectDetail(r('auth-required')), "the master requires authentication: start this remote with --psk-file and the master's key");
});

t.test('unauthenticated REJECTs: HELLO again after 1 s doubling to 30 s, each logged with its wait', async (t) => {
  const h = remoteHarness(); // random() = 0.5: no jitter
  h.io.take();
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    const before = h.io.logs.length;
    h.deliver(reject(REMOTE_EPOCH, 'seg-size', 4096, 8192));
    const log = h.io.logs[before]!;
    t.equal(log.level, 'error');
    t.equal(log.text, 'the master rejected this remote (seg-size): segment size (-s): the master has 4096, this remote has 8192');
    const start = h.clock.now();
    for (let k = 0; k < 400 && h.io.take('hello').length === 0; k++) h.advance(100);
    waits.push(h.clock.now() - start);
    t.same(log.fields, { retry_in_s: waits.at(-1)! / 1000, note: 'without --psk-file a REJECT cannot be authenticated, so this remote keeps trying' });
  }
  t.same(waits, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  t.equal(h.core.problem, 'the master rejected this remote (seg-size): segment size (-s): the master has 4096, this remote has 8192');
});

t.test('the REJECT back-off is jittered by [0.5, 1.5)', async (t) => {
  for (const [random, wait] of [
    [0, 500],
    [0.99, 1490],
  ] as const) {
    const h = remoteHarness({ random: () => random });
    h.io.take();
    h.deliver(reject(REMOTE_EPOCH, 'seg-size'));
    h.advance(wait - 1);
    t.equal(h.io.take('hello').length, 0, `random ${random}: not before ${wait} ms`);
    h.advance(1);
    t.equal(h.io.take('hello').length, 1);
  }
});

t.test('auth-failed, duplicate and unavailable: a warning, and HELLO on the normal schedule even with a key', async (t) => {
  const h = remoteHarness({ sealed: true });
  h.io.take();
  h.deliver({ ...r('auth-failed', 0, 0, 'bad tag'), epoch: MASTER_EPOCH });
  t.equal(h.core.state, RemoteState.JOINING);
  t.same(h.failures, []);
  t.same(
    h.io.logs.map((l) => [l.level, l.text, l.fields]),
    [['warn', 'master refused the join for now; retrying', { reason: 'auth-failed', text: 'bad tag' }]],
  );
  h.advance(499);
  t.equal(h.io.take('hello').length, 0);
  h.advance(1);
  t.equal(h.io.take('hello').length, 1, 'at 500 ms, the first HELLO retry');
});

t.test('no answer at all: one warning at the fifth HELLO, then at most every 30 s', async (t) => {
  const h = remoteHarness();
  const hint = 'no answer from the master yet; is it running and reachable, and do both sides use the same --psk-file?';
  const warnings = () => h.io.logs.filter((l) => l.text === hint).map((l) => [l.level, l.fields]);
  h.advance(500 + 1000 + 2000 + 3999);
  t.same(warnings(), [], 'four HELLOs: no warning yet');
  h.advance(1);
  t.same(warnings(), [['warn', { master: '127.0.0.1:31415', hellos: 5 }]], 'the fifth, at 7.5 s');
  h.advance(8000 * 3);
  t.equal(warnings().length, 1, 'HELLOs at 15.5, 23.5 and 31.5 s: under 30 s since the warning');
  h.advance(8000);
  t.same(
    warnings().map((w) => w[1]),
    [
      { master: '127.0.0.1:31415', hellos: 5 },
      { master: '127.0.0.1:31415', hellos: 9 },
    ],
    'the ninth, 32 s after it',
  );
});

t.test('no such warning while the master answers with REJECTs', async (t) => {
  const h = remoteHarness();
  h.deliver(reject(REMOTE_EPOCH, 'seg-size'));
  h.advance(200_000);
  t.same(
    h.io.logs.filter((l) => /no answer/.test(l.text)),
    [],
  );
});

t.test('a remote that never joined reports its master down once it FAILED or CLOSED, not joining', async (t) => {
  const failed = remoteHarness({ sealed: true });
  t.equal(failed.core.peerStateName, 'joining');
  failed.deliver(reject(REMOTE_EPOCH, 'seg-size', 4096, 8192));
  t.equal(failed.core.state, RemoteState.FAILED);
  t.equal(failed.core.peerStateName, 'down');
  const closed = remoteHarness();
  closed.core.close();
  t.equal(closed.core.state, RemoteState.CLOSED);
  t.equal(closed.core.peerStateName, 'down');
});

t.test('with a scan interval longer than the HELLO back-off the retry is still on time', async (t) => {
  const h = remoteHarness({ intervalMs: 5000 });
  h.io.take();
  t.equal(h.core.nextDeadline(), h.clock.now() + 500, 'the HELLO retry is the next deadline, not the scan');
  h.advance(500);
  t.equal(h.io.take('hello').length, 1);
});

t.test("the HELLO: this remote's geometry, its RO start, a hostname cut to 255 bytes, a NONCE only for version 2", async (t) => {
  const h = remoteHarness({ clientId: 3, hostname: 'h'.repeat(300) });
  const [first] = h.io.take('hello');
  t.same(first?.msg, {
    type: 'hello',
    src: 3,
    dst: 0xffff,
    epoch: REMOTE_EPOCH,
    versionMin: 1,
    versionMax: 1,
    mtu: 1200,
    pageSize: 1024,
    segSize: 4096,
    bcSize: 0,
    roNextSeq: 0xfffffff0,
    wordSize: 8,
    hostname: 'h'.repeat(255),
    nonce: null,
    options: [],
  });
  const v2 = remoteHarness({ versions: { min: 1, max: 2 }, freshNonce: () => new Uint8Array(16).fill(9) });
  t.same(v2.io.take('hello')[0]?.msg.nonce, new Uint8Array(16).fill(9), 'a remote that offers version 2 sends its NONCE');
});

// A remote's core at the edges mutation testing found unchecked (issue 18): close() before
// any session sends nothing, a version-1 WELCOME that carries version-2 options is a
// version-1 session (no keys, no cookie in its HEARTBEATs), a failed preparation of the
// segments fails the remote with that error, and a HEARTBEAT's MO entry is never taken for
// the BC stream's highest number (spec §8.4's fallback reads BC's only).
import t from 'tap';
import { RemoteState } from '../../src/session/states.js';
import type { SessionStart } from '../../src/session/io.js';
import { MASTER_EPOCH, REMOTE_EPOCH, heartbeat, remoteHarness, settle, welcome } from '../fixtures/session-harness.js';

const nonce = (b: number) => new Uint8Array(16).fill(b);

t.test('close() while still joining: no GOODBYE, no last RO batch, CLOSED', async (t) => {
  const h = remoteHarness();
  h.io.take();
  h.core.close();
  t.same(h.io.take(), [], 'nothing to a master that never welcomed us');
  t.equal(h.ro.ticks, 0, 'no RO scan');
  t.equal(h.core.state, RemoteState.CLOSED);
  t.equal(h.core.nextDeadline(), Infinity, 'and no more HELLOs');
});

t.test('close() when up: the last RO batch, then GOODBYE shutdown, and the BC flow stopped', async (t) => {
  const h = remoteHarness();
  h.withBc();
  h.deliver(welcome(REMOTE_EPOCH, { bcMode: 'unicast', bcSize: 4096 }));
  await settle();
  t.ok(h.bcIn.receiver, 'BC started');
  h.io.take();
  const ticks = h.ro.ticks;
  h.core.close();
  t.equal(h.ro.ticks, ticks + 1, 'one last RO scan');
  t.match(
    h.io.take().map((s) => s.msg),
    [{ type: 'goodbye', reason: 'shutdown', epoch: REMOTE_EPOCH }],
  );
  t.equal(h.bcIn.receiver, undefined, 'BC stopped');
  t.equal(h.mo.receiver, undefined, 'MO stopped');
});

t.test('a version-1 WELCOME with a NONCE and a COOKIE: no session keys, and no cookie in the HEARTBEATs', async (t) => {
  const installs: SessionStart[] = [];
  const h = remoteHarness({ versions: { min: 1, max: 2 }, freshNonce: () => nonce(0xa0) });
  Object.assign(h.io, { installSession: (_id: number, s: SessionStart) => void installs.push(s) });
  h.deliver(welcome(REMOTE_EPOCH, { version: 1, nonce: nonce(0xc0), cookie: nonce(0xee) }));
  await settle();
  t.equal(h.core.state, RemoteState.UP, 'up: version 1');
  t.same(installs, [], 'no keys from a version-1 WELCOME');
  h.io.take();
  h.advance(100);
  const [b] = h.io.take('heartbeat');
  t.equal(b?.msg.cookie ?? null, null, 'no COOKIE echoed');
});

t.test('a version-2 WELCOME without a COOKIE is refused as a bad option, and the remote keeps joining', async (t) => {
  const h = remoteHarness({ versions: { min: 2, max: 2 }, freshNonce: () => nonce(0xa0) });
  h.deliver(welcome(REMOTE_EPOCH, { version: 2, nonce: nonce(0xc0) }));
  await settle();
  t.same(h.io.drops, ['decode-option']);
  t.equal(h.core.state, RemoteState.JOINING);
});

t.test('a segment preparation that fails makes the remote FAILED with that error', async (t) => {
  const h = remoteHarness();
  const err = new Error('cannot attach the BC segment');
  h.io.prepare = async () => {
    throw err;
  };
  h.deliver(welcome(REMOTE_EPOCH));
  await settle();
  t.equal(h.core.state, RemoteState.FAILED);
  t.same(h.failures, [err]);
  t.equal(h.ro.starts, 0, 'no flow started');
});

t.test("a HEARTBEAT's MO entry is not BC's highest: a multicast remote does not fall back on MO progress", async (t) => {
  const h = remoteHarness();
  h.withBc();
  h.deliver(
    welcome(REMOTE_EPOCH, {
      bcMode: 'multicast',
      bcSize: 4096,
      bcNextSeq: 5,
      multicast: { port: 31416, address: new Uint8Array([239, 1, 2, 3]) },
      livenessMs: 60_000,
    }),
  );
  await settle();
  h.io.take();
  // Ten periods of HEARTBEATs whose only entry is MO, far ahead of BC's next expected (5).
  for (let i = 0; i < 10; i++) {
    h.deliver(heartbeat(0xffff, 0, MASTER_EPOCH, { flows: [{ flow: 'mo', highestSeq: 1000 + 100 * i }] }));
    h.advance(100);
  }
  t.notOk(
    h.io.take('heartbeat').some((b) => b.msg.wantBcUnicast),
    'never asks for BC by unicast',
  );
  t.same(
    h.io.logs.filter((l) => l.text.startsWith('no multicast arrives')),
    [],
  );
});

import t from 'tap';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { statusJson } from '../fixtures/admin.js';
import { BIN, runBin } from '../fixtures/daemon.js';

// -i 60000: no periodic scan runs during the test (the report's `scans` stays 0), so a value
// that arrives can only have been sent by a flush.
t.test('a value written then flushed reaches the peer while no periodic scan has run', async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 60_000, masterArgs: ['-b', '4096'] });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  const r = c.attachRemote(0);
  // The join's full batches (sent at validation, not by a scan) are in.
  t.ok(
    await eventually(() => r.status('mo').batches >= 1n && r.status('bc').batches >= 1n && m.status('ro', 0).batches >= 1n),
    'the full batches of the join arrived',
  );

  m.moSlice(0).writeBigUInt64LE(0xfeedn, 64);
  const mo = await m.flush(0);
  t.same(mo, [{ flow: 'mo', client: 0, outcome: 'sent', pages: 1 }], 'the master flushed MO slice 0: one page queued');
  t.ok(await eventually(() => r.mo.readBigUInt64LE(64) === 0xfeedn), 'the remote sees the MO value');

  r.ro.writeBigUInt64LE(0xbeefn, 8);
  t.same(await r.flush(), [{ flow: 'ro', outcome: 'sent', pages: 1 }], 'the remote flushed RO: one page queued');
  t.ok(await eventually(() => m.roSlice(0).readBigUInt64LE(8) === 0xbeefn), 'the master sees the RO value');

  m.bc!.writeBigUInt64LE(0xcafen, 0);
  const cli = runBin(BIN.pdsm, ['flush', '--bc', '-d', c.place.dir]);
  t.equal(cli.status, 0, `pdsm flush --bc exits 0 (${cli.stderr})`);
  t.equal(cli.stdout, 'bc: sent 1 page\n', 'and says what it sent');
  t.ok(await eventually(() => r.bc!.readBigUInt64LE(0) === 0xcafen), 'the remote sees the BC value');

  const again = runBin(BIN.pdsm, ['flush', '-d', c.place.dir]);
  t.equal(again.stdout, 'mo 0: unchanged\nbc: unchanged\n', 'a flush with nothing changed sends nothing, flow by flow');

  const master = statusJson(c.place.dir);
  const remote = statusJson(c.place.dir, 0);
  t.equal(master.scans, 0, 'the master ran no periodic scan');
  t.equal(remote.scans, 0, 'the remote ran no periodic scan');
  const moOut = master.peers[0]!.flows.find((f) => f.flow === 'mo')!;
  t.match(moOut, { flushRequests: 2, flushScans: 2 }, 'status counts the MO flushes and their scans');
  t.match(master.bc, { flushRequests: 2, flushScans: 2 }, 'and the BC ones');
  t.match(
    remote.peers[0]!.flows.find((f) => f.flow === 'ro'),
    { flushRequests: 1, flushScans: 1 },
    'and the remote its RO flush',
  );
});

t.test('flush requests for flows a daemon does not send are refused with the reason', async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 60_000 });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  await t.rejects(m.flush(5), { code: 'PDSM_ERR_RANGE' }, 'a slice out of range is refused before asking');
  await t.rejects(m.flush('bc'), { code: 'PDSM_ERR_NETWORK', message: /no broadcast segment/ }, 'BC without -b');
  const r = runBin(BIN.pdsm, ['flush', '--slice', '3', '-d', c.place.dir]);
  t.equal(r.status, 1, 'pdsm flush --slice 3 exits 1');
  t.match(r.stderr, /client 3 is out of range 0\.\.0/, `and says why: ${r.stderr}`);
});

// The request leaves inside flush() itself: a caller that goes on with synchronous work (here
// a reader polling the peer, which never yields) still has its update delivered.
t.test("flush()'s request leaves at once, not when the caller's turn ends", async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 60_000 });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  const r = c.attachRemote(0);
  t.ok(await eventually(() => r.status('mo').batches >= 1n), 'the full batch of the join arrived');
  await m.flush(0); // the control connection is open
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (const value of [0x1234n, 0x5678n]) {
    m.writeConsistent(0, () => m.moSlice(0).writeBigUInt64LE(value, 16));
    const answer = m.flush(0);
    let seen = false;
    // Bounded: at most 10 s of 1 ms waits, all inside this turn.
    for (let i = 0; i < 10_000 && !seen; i++) {
      seen = r.readConsistent('mo', () => r.mo.readBigUInt64LE(16)) === value;
      if (!seen) Atomics.wait(cell, 0, 0, 1);
    }
    t.ok(seen, `0x${value.toString(16)} reached the remote before this turn yielded`);
    t.same(await answer, [{ flow: 'mo', client: 0, outcome: 'sent', pages: 1 }], 'and the flush is answered after');
  }
});

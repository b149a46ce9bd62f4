import t from 'tap';
import { startCluster } from '../fixtures/cluster.js';
import { BIN, runBin } from '../fixtures/daemon.js';
import { statusJson } from '../fixtures/admin.js';

// issue 12: both daemons measure their event-loop delay from start-up and report it in
// `pdsm status` (JSON and text), and log one line when a full resync starts and one when it
// ends (the join's full batches, both directions).

t.test('status shows the event-loop delay of master and remote; the join logs its full resyncs', async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 50 });
  t.teardown(() => c.destroy());
  const remote = c.remotes.get(0)!;

  for (const [who, client] of [
    ['master', undefined],
    ['remote', 0],
  ] as const) {
    const r = statusJson(c.place.dir, client);
    t.equal(r.role, who);
    const d = r.loopDelay;
    t.ok(d, `${who}: loopDelay is reported`);
    if (!d) continue;
    for (const k of ['p50Ms', 'p99Ms', 'maxMs', 'windowS'] as const) t.ok(Number.isFinite(d[k]) && d[k] >= 0, `${who}: ${k} = ${d[k]}`);
    t.ok(d.p50Ms <= d.p99Ms && d.p99Ms <= d.maxMs, `${who}: p50 <= p99 <= max`);
    t.ok(d.windowS > 0, `${who}: measured over some time`);
    const text = runBin(BIN.pdsm, ['status', '-d', c.place.dir, ...(client === undefined ? [] : ['--client', String(client)])]);
    t.equal(text.status, 0);
    t.match(text.stdout, /event loop delay p99 [\d.]+ ms, max [\d.]+ ms/, `${who}: the text shows it`);
  }

  // The join: the master's full MO batch and the remote's full RO batch.
  await c.master.waitFor(/info pdsm_master: full resync done .*flow=mo.*direction=out/, 20_000);
  await c.master.waitFor(/info pdsm_master: full resync done .*flow=ro.*direction=in/, 20_000);
  await remote.waitFor(/info pdsm_remote: full resync done .*flow=mo.*direction=in/, 20_000);
  await remote.waitFor(/info pdsm_remote: full resync done .*flow=ro.*direction=out/, 20_000);
  for (const [who, d] of [
    ['master', c.master],
    ['remote', remote],
  ] as const) {
    const err = d.stderr();
    const started = err.match(/full resync started/g)?.length ?? 0;
    const done = err.match(/full resync done/g)?.length ?? 0;
    t.equal(started, 2, `${who}: one start line per direction`);
    t.equal(done, 2, `${who}: one end line per direction`);
    t.match(err, /full resync done .*bytes=\d+.*duration_ms=\d+.*rate_bytes_s=\d+/, `${who}: the end line has size, duration and rate`);
  }
});

import t from 'tap';
import { startCluster } from '../fixtures/cluster.js';
import { BIN, runBin } from '../fixtures/daemon.js';
import { statusJson } from '../fixtures/admin.js';

t.test('pdsm status shows both remotes up, then the killed one down', async (t) => {
  // -i 50: heartbeat 50 ms, liveness max(1 s, 5 x 50 ms) = 1 s.
  const started = Date.now();
  const c = await startCluster({ remotes: 2, intervalMs: 50 });
  t.teardown(() => c.destroy());

  const up = statusJson(c.place.dir);
  t.equal(up.role, 'master');
  t.equal(up.params.remotes, 2);
  t.equal(up.params.liveness_ms, 1000);
  t.same(
    up.peers.map((p) => [p.id, p.state]),
    [
      [0, 'up'],
      [1, 'up'],
    ],
    'both remotes up',
  );
  for (const p of up.peers) {
    t.match(p.address, /^127\.0\.0\.1:\d+$/, `remote ${p.id} has an address`);
    // 'up' already says it was heard within liveness; how long ago depends on the machine's load.
    const sinceStart = Date.now() - started;
    t.ok(
      p.lastHeardMsAgo !== undefined && p.lastHeardMsAgo >= 0 && p.lastHeardMsAgo <= sinceStart,
      `remote ${p.id} was heard since the cluster started (${p.lastHeardMsAgo} ms ago, started ${sinceStart} ms ago)`,
    );
    t.same(
      p.flows.map((f) => `${f.flow} ${f.direction}`),
      ['mo out', 'ro in'],
    );
  }
  const text = runBin(BIN.pdsm, ['status', '-d', c.place.dir]);
  t.equal(text.status, 0);
  t.match(text.stdout, /^pdsm_master {2}pid \d+ {2}epoch 0x[0-9a-f]{8}/);
  for (const line of text.stdout.split('\n')) t.ok(line.length <= 80, `fits 80 columns: ${line}`);

  const remote = statusJson(c.place.dir, 1);
  t.equal(remote.role, 'remote');
  t.equal(remote.params.client_id, 1);
  t.equal(remote.peers[0]?.state, 'up', 'remote 1 sees the master up');

  const killed = await c.remotes.get(1)!.stop('SIGKILL');
  t.equal(killed, 'SIGKILL');
  const deadline = Date.now() + 6000;
  let now = statusJson(c.place.dir);
  while (now.peers[1]?.state !== 'down' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    now = statusJson(c.place.dir);
  }
  t.same(
    now.peers.map((p) => [p.id, p.state]),
    [
      [0, 'up'],
      [1, 'down'],
    ],
    'remote 1 is down, remote 0 still up',
  );
  t.ok(now.peers[1]!.lastHeardMsAgo! >= 1000, 'down after at least the liveness timeout');
  t.match(runBin(BIN.pdsm, ['status', '-d', c.place.dir]).stdout, /^1 +down /m, 'the text says down too');

  const gone = runBin(BIN.pdsm, ['status', '-d', c.place.dir, '--client', '1']);
  t.equal(gone.status, 1, 'the killed remote does not answer: exit 1');
  t.match(gone.stderr, /pdsm_remote 1: no daemon answers on .*pdsm_remote_1\.sock: nobody listens \(a stale socket\)/);
});

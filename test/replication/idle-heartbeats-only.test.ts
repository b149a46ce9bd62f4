import t from 'tap';
import { eventually, startCluster } from '../fixtures/cluster.js';

t.test('with nothing changing, only heartbeats are sent', async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 50, env: { PDSM_DEBUG: 'pdsm:udp' } });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  master.moSlice(0).writeUInt32LE(5, 0);
  const sent = (text: string): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/pdsm:udp send \S+ (\w+) /g)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
    return counts;
  };
  const remote = c.attachRemote(0);
  t.ok(await eventually(() => remote.mo.readUInt32LE(0) === 5), 'the change arrived');
  // The join's full sync and the change settle: wait (at most 50 x 100 ms) until neither side
  // has sent anything but heartbeats for three readings in a row.
  const notHeartbeats = (): number =>
    [c.master.stderr(), c.remotes.get(0)!.stderr()].reduce(
      (n, text) => n + [...sent(text)].filter(([type]) => type !== 'heartbeat').reduce((a, [, k]) => a + k, 0),
      0,
    );
  let last = -1;
  for (let i = 0, same = 0; i < 50 && same < 3; i++) {
    const n = notHeartbeats();
    same = n === last ? same + 1 : 0;
    last = n;
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = { m: c.master.stderr().length, r: c.remotes.get(0)!.stderr().length };
  await new Promise((r) => setTimeout(r, 1000)); // 20 intervals
  const m = sent(c.master.stderr().slice(before.m));
  const r = sent(c.remotes.get(0)!.stderr().slice(before.r));
  t.comment(`master sent ${JSON.stringify([...m])}, remote sent ${JSON.stringify([...r])}`);
  t.same([...m.keys()], ['heartbeat'], 'the master sent heartbeats only');
  t.same([...r.keys()], ['heartbeat'], 'the remote sent heartbeats only');
  t.ok((m.get('heartbeat') ?? 0) >= 10 && (m.get('heartbeat') ?? 0) <= 30, 'about one heartbeat per interval');
  t.match(
    c.master.stderr(),
    /pdsm:udp send \S+ data src=65535 dst=0 epoch=\d+ pn=\d+ flow=mo seq=\d+ batch=\d+ page=0 off=0 len=1024/,
    'the trace shows type, flow, sequence, page and length',
  );
});

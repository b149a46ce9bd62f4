import t from 'tap';
import { randomFillSync } from 'node:crypto';
import { BIN, runBin } from '../fixtures/daemon.js';
import type { DaemonReport } from '../../src/daemon/status-report.js';
import { attachMaster } from '../../src/index.js';
import { harnessFor } from '../fixtures/scenario/harness.js';

// issue 12: a 64 MiB segment, random bytes on both sides, one master and one remote on
// loopback. The remote's cold join brings the master's 64 MiB MO as one full batch, and
// its own 64 MiB RO goes the other way as a batch of every page. Both sides must end
// byte-identical (bounded wait) with exactly one session each: no flap, counted from the
// daemons' own session counters and checked against their logs.

const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const BOUND_MS = 120_000;

function fillRandom(b: Buffer): void {
  for (let at = 0; at < b.length; at += MIB) randomFillSync(b, at, Math.min(MIB, b.length - at));
}

function status(dir: string, client?: number): DaemonReport {
  const r = runBin(BIN.pdsm, ['status', '--json', '-d', dir, ...(client === undefined ? [] : ['--client', String(client)])]);
  if (r.status !== 0) throw new Error(`pdsm status exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DaemonReport;
}

t.test('64 MiB both ways: byte-identical within the bound, zero session flaps', async (t) => {
  const h = await harnessFor(t, { remotes: 1, network: 'loopback', size: '64M', intervalMs: 50 });
  const master = await h.startMaster();
  // Before the join (the harness attaches to every node at once, so attach to the master alone):
  // the random MO goes as the session's full batch.
  const early = attachMaster({ registryDir: h.places.get('master')!.dir });
  t.equal(early.moSlice(0).length, SIZE);
  fillRandom(early.moSlice(0));
  early.detach();
  const began = performance.now();
  const remote = await h.startRemote(0);
  const { master: m, remotes } = h.attach();
  const r = remotes.get(0)!;
  fillRandom(r.ro); // after the join: a batch of every page the other way

  const identical = (): boolean => m.moSlice(0).equals(r.mo) && r.ro.equals(m.roSlice(0));
  const deadline = performance.now() + BOUND_MS;
  while (!identical() && performance.now() < deadline) await new Promise((res) => setTimeout(res, 250));
  const took = Math.round(performance.now() - began);
  t.ok(identical(), `MO and RO byte-identical (after ${took} ms, bound ${BOUND_MS} ms)`);
  t.comment(`64 MiB both ways: identical ${took} ms after the remote started`);

  const ms = status(h.places.get('master')!.dir);
  const rs = status(h.places.get(0)!.dir, 0);
  t.equal(ms.peers[0]?.sessions, 1, 'the master opened one session with the remote');
  t.equal(ms.peers[0]?.state, 'up');
  t.equal(rs.peers[0]?.sessions, 1, 'the remote opened one session with the master');
  t.equal(rs.peers[0]?.state, 'up');
  t.notMatch(master.stderr(), /remote down/, 'the master never marked the remote down');
  t.notMatch(remote.stderr(), /joining again/, 'the remote never joined again');
  for (const [who, d] of [
    ['master', ms],
    ['remote', rs],
  ] as const) {
    if (d.loopDelay) t.comment(`${who} event-loop delay: p99 ${d.loopDelay.p99Ms} ms, max ${d.loopDelay.maxMs} ms`);
  }
});

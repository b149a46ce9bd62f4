// Issue 19, finding 8, through real daemons without a key: a GOODBYE or REJECT that cannot be
// authenticated never takes a remote down for good. A spoofed GOODBYE (with the right
// address, port and epoch, the worst an attacker can forge) ends at most one session, and
// the remote joins again; a spoofed REJECT seg-size makes it say why in its log and in
// `pdsm status`, keep trying with back-off, and join once the real master answers.
import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { decode, encode } from '../../src/udp/codec.js';
import { NODE_MASTER } from '../../src/udp/constants.js';
import type { Peer } from '../../src/udp/socket.js';
import { statusJson } from '../fixtures/admin.js';
import { eventually, freeUdpPort, startCluster, type Cluster } from '../fixtures/cluster.js';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';
import { goodbye, reject } from '../fixtures/session-harness.js';
import { cannotSpoof, spoofUdp } from '../fixtures/spoof-udp.js';

const noSpoof = cannotSpoof();

/** The master's epoch and the address and epoch of remote 0's last session, from the master's log. */
function sessionOf(c: Cluster): { masterEpoch: number; remote: Peer; remoteEpoch: number; joins: number } {
  const log = c.master.stderr();
  const epoch = /listening .*epoch=(\d+)/.exec(log);
  const joins = [...log.matchAll(/remote joined client=0 address=([\d.]+):(\d+) epoch=(\d+)/g)];
  const last = joins.at(-1);
  if (!epoch || !last) throw new Error(`no epoch or join in the master's log:\n${log}`);
  return { masterEpoch: Number(epoch[1]), remote: { address: last[1]!, port: Number(last[2]) }, remoteEpoch: Number(last[3]), joins: joins.length };
}

/** A cluster of one remote, once the master logged the remote's join (the remote may log its own first). */
async function joinedCluster(t: Test): Promise<Cluster> {
  const c = await startCluster({ remotes: 1 });
  t.teardown(() => c.destroy());
  if (!(await eventually(() => /remote joined client=0 /.test(c.master.stderr()), 15_000)))
    throw new Error(`the master never logged the join:\n${c.master.stderr()}`);
  return c;
}

/** A value written on the master reaches remote 0: replication works. */
async function replicates(c: Cluster, value: number): Promise<boolean> {
  const master = c.attachMaster();
  const remote = c.attachRemote(0);
  master.moSlice(0).writeUInt32LE(value, 0);
  return eventually(() => remote.mo.readUInt32LE(0) === value, 15_000);
}

async function bound(port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
  return s;
}

t.test("a GOODBYE spoofed to the remote from the master's address and port ends one session only: the remote joins again", { skip: noSpoof }, async (t) => {
  const c = await joinedCluster(t);
  const before = sessionOf(c);
  const master: Peer = { address: '127.0.0.1', port: c.port };
  spoofUdp(master, before.remote, encode(goodbye(NODE_MASTER, 0, before.masterEpoch)));
  const remote = c.remotes.get(0)!;
  t.ok(await eventually(() => /master down; joining again .*master said goodbye/.test(remote.stderr()), 10_000), 'the remote took the GOODBYE');
  t.ok(await eventually(() => sessionOf(c).joins > before.joins, 15_000), 'and joined again');
  const after = sessionOf(c);
  t.not(after.remoteEpoch, before.remoteEpoch, 'as a new session (new epoch)');
  t.ok(await replicates(c, 0x600d), 'replication works again');
  t.equal(remote.child.exitCode, null, 'the remote still runs');
  t.equal(statusJson(c.place.dir, 0).peers.find((p) => p.id === -1)?.state, 'up', '`pdsm status` shows the master up');
});

t.test("a GOODBYE spoofed to the master from another port is dropped; from the remote's own port it ends one session only", { skip: noSpoof }, async (t) => {
  const c = await joinedCluster(t);
  const before = sessionOf(c);
  const bye = encode(goodbye(0, NODE_MASTER, before.remoteEpoch));

  const s = await bound();
  t.teardown(() => s.close());
  const notJoined = (): number => statusJson(c.place.dir).drops['not-joined'] ?? 0;
  const dropped = notJoined();
  s.send(bye, c.port, '127.0.0.1');
  t.ok(await eventually(() => notJoined() > dropped, 10_000), 'from another port: dropped not-joined');
  t.ok(await replicates(c, 0xa1), 'the session still replicates');
  t.notMatch(c.master.stderr(), /remote down client=0/, 'and was never ended');
  t.equal(sessionOf(c).joins, before.joins);

  spoofUdp(before.remote, { address: '127.0.0.1', port: c.port }, bye);
  t.ok(await eventually(() => /remote down client=0 .*said goodbye/.test(c.master.stderr()), 10_000), "from the remote's own port: that session ends");
  t.ok(await eventually(() => sessionOf(c).joins > before.joins, 15_000), 'and the remote joins again (REJECT not-joined told it)');
  t.ok(await replicates(c, 0xa2), 'replication works again');
  t.equal(c.remotes.get(0)!.child.exitCode, null, 'the remote still runs');
});

t.test("a REJECT seg-size from the master's address and port: the remote says why, keeps trying with back-off, and joins the real master", async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const port = await freeUdpPort(4);
  // The attacker holds the master's port while the real master is not up yet.
  const fake = await bound(port);
  let fakeOpen = true;
  t.teardown(() => fakeOpen && fake.close());
  const hellos: { epoch: number; from: Peer }[] = [];
  fake.on('message', (b, r) => {
    const m = decode(b);
    if (m.ok && m.msg.type === 'hello') hellos.push({ epoch: m.msg.epoch, from: { address: r.address, port: r.port } });
  });
  const remote = startDaemon(BIN.remote, [...place.args, '-n', '0', '-i', '50', '-P', String(port), '-H', '127.0.0.1']);
  t.teardown(() => remote.stop('SIGKILL'));
  t.ok(await eventually(() => hellos.length > 0, 15_000), 'the remote says HELLO');
  const first = hellos[0]!;
  fake.send(encode(reject(first.epoch, 'seg-size', 8192, 4096)), first.from.port, first.from.address);

  t.ok(await eventually(() => /rejected this remote \(seg-size\).*keeps trying/.test(remote.stderr()), 10_000), 'its log says why and that it keeps trying');
  t.match(remote.stderr(), /rejected this remote \(seg-size\).* retry_in_s=[1-9]/, 'after a back-off of a second or more, not at once');
  const problem = (): string | undefined => statusJson(place.dir, 0).peers.find((p) => p.id === -1)?.problem;
  t.match(problem(), /seg-size.*8192.*4096/, '`pdsm status` shows the problem');
  const seen = hellos.length;
  t.ok(await eventually(() => hellos.length > seen, 15_000), 'it tries again');
  t.equal(remote.child.exitCode, null, 'the remote still runs');

  fake.close();
  fakeOpen = false;
  const master = startDaemon(BIN.master, [...place.args, '-p', '1', '-i', '50', '-P', String(port), '-L', '127.0.0.1']);
  t.teardown(() => master.stop('SIGKILL'));
  await master.waitFor(/running/);
  t.ok(await eventually(() => /joined master/.test(remote.stderr()), 30_000), 'it joins the real master once it is reachable');
  t.equal(problem(), undefined, 'and the problem is gone from `pdsm status`');
});

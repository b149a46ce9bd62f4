import t from 'tap';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

// IPv4 multicast works on lo when both ends pin the interface to 127.0.0.1.
t.test('with -m, each changed BC page is sent once to the group however many remotes listen', async (t) => {
  const group = `239.${Math.floor(Math.random() * 200) + 20}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
  const c = await startCluster({
    remotes: 3,
    masterArgs: ['-b', '8K', '-m', group, '--multicast-if', '127.0.0.1'],
    remoteArgs: ['--multicast-if', '127.0.0.1'],
    env: { PDSM_DEBUG: 'pdsm:udp' },
  });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const r = [0, 1, 2].map((n) => c.attachRemote(n));
  // Let the joins' full batches settle before counting.
  t.ok(await eventually(() => r.every((x) => x.bc !== undefined && sameBytes(x.bc, master.bc!))), "the joins' full batches arrived");
  await new Promise((res) => setTimeout(res, 500));
  const before = c.master.stderr().length;
  master.bc!.writeBigUInt64LE(42n, 3 * 1024 + 8);
  t.ok(await eventually(() => r.every((x) => x.bc?.readBigUInt64LE(3 * 1024 + 8) === 42n)), 'all three remotes see the change');
  await new Promise((res) => setTimeout(res, 200));
  const sent = [
    ...c.master
      .stderr()
      .slice(before)
      .matchAll(/send (\S+) data src=65535 dst=(\d+) .*flow=bc .*page=3 /g),
  ];
  t.equal(sent.length, 1, `the page went out once: ${sent.map((x) => x[0]).join(' | ')}`);
  t.equal(sent[0]?.[1], `${group}:${c.port + 1}`, "to the group, at the master's port + 1");
  t.equal(sent[0]?.[2], '65534', 'with Dst = ALL');
  t.ok(
    r.every((x) => sameBytes(x.bc!, master.bc!)),
    'every BC is byte-identical',
  );
  for (const n of [0, 1, 2]) t.match(c.remotes.get(n)!.stderr(), new RegExp(`joined multicast group group=${group.replace(/\./g, '\\.')}`));
});

t.test('a --multicast-if that no interface has exits 1 naming it', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const r = runBin(BIN.master, [...place.args, '-b', '4096', '-m', '239.9.9.9', '--multicast-if', '127.0.0.99']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /--multicast-if: no interface of this host has the address 127\.0\.0\.99/);
});

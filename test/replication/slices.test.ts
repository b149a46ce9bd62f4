import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

const haveCc = spawnSync('cc', ['--version']).status === 0;

for (const family of [4, 6] as const) {
  t.test(`over IPv${family}, each remote's RO reaches its slice of the master's RO and each MO slice reaches its remote only`, async (t) => {
    const c = await startCluster({ family, remotes: 4 });
    t.teardown(() => c.destroy());
    const master = c.attachMaster();
    const remotes = [0, 1, 2, 3].map((n) => c.attachRemote(n));

    // RO: remote n stores n+100 at offset 8*n.
    for (const n of [0, 1, 2, 3]) remotes[n]!.ro.writeBigUInt64LE(BigInt(n + 100), 8 * n);
    // MO: the master stores 1000+n into slice n at offset 4000.
    for (const n of [0, 1, 2, 3]) master.moSlice(n).writeBigUInt64LE(BigInt(1000 + n), 4000);

    const arrived = await eventually(() =>
      [0, 1, 2, 3].every((n) => master.roSlice(n).readBigUInt64LE(8 * n) === BigInt(n + 100) && remotes[n]!.mo.readBigUInt64LE(4000) === BigInt(1000 + n)),
    );
    t.ok(arrived, 'every value arrived');
    for (const n of [0, 1, 2, 3]) {
      t.equal(master.roSlice(n).readBigUInt64LE(8 * n), BigInt(n + 100), `slice ${n} of the master's RO holds remote ${n}'s value`);
      t.equal(remotes[n]!.mo.readBigUInt64LE(4000), BigInt(1000 + n), `remote ${n}'s MO holds slice ${n}`);
      for (const other of [0, 1, 2, 3]) {
        if (other !== n) t.equal(master.roSlice(n).readBigUInt64LE(8 * other), 0n, `slice ${n} has nothing of remote ${other}`);
      }
      t.ok(sameBytes(master.roSlice(n), remotes[n]!.ro), `slice ${n} equals remote ${n}'s RO byte for byte`);
      t.ok(sameBytes(master.moSlice(n), remotes[n]!.mo), `remote ${n}'s MO equals slice ${n} byte for byte`);
    }

    await t.test(
      'a store by the C example on remote 2 reaches slice 2, and it reads its MO slice',
      { skip: haveCc ? false : 'no C compiler (cc)' },
      async (t) => {
        const exe = join(c.place.dir, 'pdsm_example');
        execFileSync('cc', ['-O2', '-o', exe, join(ROOT, 'examples/c/pdsm_example.c')]);
        execFileSync(exe, ['-d', c.place.dir, '-n', '2', 'store', 'RO', '256', '4242']);
        t.ok(await eventually(() => master.roSlice(2).readBigUInt64LE(256) === 4242n), "slice 2 of the master's RO holds the C store");
        t.equal(master.roSlice(1).readBigUInt64LE(256), 0n, 'slice 1 does not');
        t.equal(execFileSync(exe, ['-d', c.place.dir, '-n', '2', 'load', 'MO', '4000'], { encoding: 'utf8' }).trim(), '1002', 'the C example reads its MO');
      },
    );
  });
}

import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { attachMaster, attachRemote, type MasterNode, type RemoteNode } from '../../src/index.js';
import { masterKeys, remoteKeys } from '../../src/segments/layout.js';
import { Segment } from '../../src/segments/segment.js';
import { BIN } from '../fixtures/daemon.js';
import { eventually, sameBytes } from '../fixtures/cluster.js';
import { canUseNetns, createBridgeNetwork, type NetnsHost } from '../fixtures/netns.js';

// A bridge and four hosts: the master on host 0, remotes 0..2 on hosts 1..3.
const can = canUseNetns();
const PORT = 31415;

interface Proc {
  child: ChildProcess;
  log(): string;
  waitFor(re: RegExp, ms?: number): Promise<boolean>;
}

function watch(child: ChildProcess): Proc {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  child.stdout?.resume();
  return { child, log: () => text, waitFor: (re, ms = 10_000) => eventually(() => re.test(text), ms, 25) };
}

for (const family of [4, 6] as const) {
  t.test(
    `IPv${family} multicast across a bridge: fan-out once, loss on one link, a late remote, a blocked remote falls back to unicast`,
    { skip: can.ok ? false : can.why },
    async (t) => {
      const net = await createBridgeNetwork({ hosts: 4, prefix: 'bc' });
      const dir = mkdtempSync(join(tmpdir(), 'pdsm-bc-'));
      const keyBase = 0x28000000 + (randomInt(0, 0x0fff) << 16);
      const attached: { detach(): void }[] = [];
      t.teardown(async () => {
        for (const a of attached) a.detach();
        await net.destroy();
        for (const k of [masterKeys(keyBase), remoteKeys(0, keyBase), remoteKeys(1, keyBase), remoteKeys(2, keyBase)])
          for (const key of Object.values(k)) Segment.remove(key);
        rmSync(dir, { recursive: true, force: true });
      });
      const addr = (h: NetnsHost): string => (family === 4 ? h.ipv4 : h.ipv6);
      const fam = family === 6 ? ['-y', '6'] : [];
      const group = family === 4 ? `239.77.${randomInt(1, 250)}.${randomInt(1, 250)}` : `ff15::77:${randomInt(1, 0xfff).toString(16)}`;
      const common = ['-d', dir, '-k', `0x${keyBase.toString(16)}`, '-i', '50', '-P', String(PORT), ...fam];
      const [h0, h1, h2, h3] = net.hosts as [NetnsHost, NetnsHost, NetnsHost, NetnsHost];

      const master = watch(
        h0.spawn(process.execPath, [BIN.master, ...common, '-p', '3', '-b', '16K', '-L', addr(h0), '-m', group, '--multicast-if', addr(h0)], {
          env: { ...process.env, PDSM_DEBUG: 'pdsm:udp' },
        }),
      );
      t.ok(await master.waitFor(/running/), 'master runs');
      const remote = (h: NetnsHost, n: number): Proc =>
        watch(h.spawn(process.execPath, [BIN.remote, ...common, '-n', String(n), '-H', addr(h0), '--multicast-if', addr(h)]));
      const r0 = remote(h1, 0);
      const r1 = remote(h2, 1);
      t.ok((await r0.waitFor(/joined master/)) && (await r1.waitFor(/joined master/)), 'remotes 0 and 1 joined');
      t.ok(await r0.waitFor(/joined multicast group/), 'remote 0 joined the group');
      const m: MasterNode = attachMaster({ registryDir: dir });
      attached.push(m);
      const rs: RemoteNode[] = [];
      const attach = async (n: number): Promise<RemoteNode> => {
        await eventually(
          () => {
            try {
              const x = attachRemote({ registryDir: dir, clientId: n });
              if (x.bc) {
                rs[n] = x;
                attached.push(x);
                return true;
              }
              x.detach();
            } catch {
              /* not yet */
            }
            return false;
          },
          10_000,
          50,
        );
        return rs[n]!;
      };
      await attach(0);
      await attach(1);

      // 1. One change, sent once to the group (after the joins' full batches have settled).
      t.ok(await eventually(() => sameBytes(rs[0]!.bc!, m.bc!) && sameBytes(rs[1]!.bc!, m.bc!)), "the joins' full batches arrived");
      await new Promise((r) => setTimeout(r, 500));
      let before = master.log().length;
      m.bc!.writeBigUInt64LE(1n, 2 * 1024);
      t.ok(await eventually(() => rs[0]!.bc!.readBigUInt64LE(2048) === 1n && rs[1]!.bc!.readBigUInt64LE(2048) === 1n), 'both remotes see the change');
      await new Promise((r) => setTimeout(r, 200));
      const sends = [
        ...master
          .log()
          .slice(before)
          .matchAll(/send (\S+) data src=65535 dst=(\d+) .*flow=bc .*page=2 /g),
      ];
      t.equal(sends.length, 1, `the changed page was sent once, not once per remote: ${sends.map((x) => x[0]).join(' | ')}`);
      t.equal(sends[0]?.[2], '65534', 'to ALL');

      // 2. 10% loss on remote 0's link: all converge; remote 1 gets no unicast BC.
      await net.loss(h1, { ingress: 10, egress: 10 });
      before = master.log().length;
      for (let i = 0; i < 40; i++) {
        m.bc!.writeBigUInt64LE(BigInt(100 + i), (i % 16) * 1024 + 8);
        await new Promise((r) => setTimeout(r, 20));
      }
      t.ok(await eventually(() => sameBytes(rs[0]!.bc!, m.bc!) && sameBytes(rs[1]!.bc!, m.bc!), 15_000), "both converge through 10% loss on remote 0's link");
      const unicastToR1 = [
        ...master
          .log()
          .slice(before)
          .matchAll(new RegExp(`send \\[?${addr(h2).replace(/[.:]/g, '\\$&')}\\]?:\\d+ data .*flow=bc`, 'g')),
      ];
      t.equal(unicastToR1.length, 0, 'remote 1 got no extra unicast BC; repairs went to the group');
      await net.heal(h1);

      // 3. A late remote whose multicast is blocked: it falls back to unicast and converges.
      const block = await h3.exec('nft', ['-f', '-'], {
        input: `table inet pdsm_mcast {\n  chain mcast_in {\n    type filter hook input priority -10;\n    udp dport ${PORT + 1} drop\n  }\n}\n`,
      });
      t.equal(block.code, 0, `nft blocks multicast on host 3 ${block.stderr}`);
      const r2 = remote(h3, 2);
      t.ok(await r2.waitFor(/joined master/), 'remote 2 joined late');
      await attach(2);
      for (let i = 0; i < 10; i++) {
        m.bc!.writeBigUInt64LE(BigInt(500 + i), 8 * i);
        await new Promise((r) => setTimeout(r, 60));
      }
      t.ok(await r2.waitFor(/asking the master for BC by unicast/, 10_000), 'remote 2 asked for unicast');
      t.ok(await master.waitFor(/remote gets no multicast; sending it BC by unicast client=2/, 5000), 'the master logs which remote is on unicast');
      t.ok(await eventually(() => rs.every((x) => sameBytes(x.bc!, m.bc!)), 15_000), 'all three BC segments are byte-identical');
    },
  );
}

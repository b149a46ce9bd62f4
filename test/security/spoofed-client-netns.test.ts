import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { masterKeys, remoteKeys } from '../../src/segments/layout.js';
import { Segment } from '../../src/segments/segment.js';
import { BIN } from '../fixtures/daemon.js';
import { eventually } from '../fixtures/cluster.js';
import { writeKey } from '../fixtures/keys.js';
import { canUseNetns, createBridgeNetwork, type NetnsHost } from '../fixtures/netns.js';

const can = canUseNetns();

function exited(child: ChildProcess): Promise<number | string> {
  return new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
}

for (const withKey of [false, true]) {
  t.test(`a client id spoofed from another host is rejected ${withKey ? 'with' : 'without'} a key`, { skip: can.ok ? false : can.why }, async (t) => {
    const net = await createBridgeNetwork({ hosts: 3, prefix: 'sp' });
    const dir = mkdtempSync(join(tmpdir(), 'pdsm-sp-'));
    const keyBase = 0x2c000000 + (randomInt(0, 0x0fff) << 16);
    t.teardown(async () => {
      await net.destroy();
      for (const k of [masterKeys(keyBase), remoteKeys(0, keyBase), remoteKeys(1, keyBase)]) for (const key of Object.values(k)) Segment.remove(key);
      rmSync(dir, { recursive: true, force: true });
    });
    const [h0, h1, h2] = net.hosts as [NetnsHost, NetnsHost, NetnsHost];
    const conf = join(dir, 'clients.conf');
    writeFileSync(conf, `Clientname=${h1.ipv4}\nClientname=${h2.ipv4}\n`);
    const auth = withKey ? ['--psk-file', writeKey(dir).path] : [];
    const common = ['-d', dir, '-k', `0x${keyBase.toString(16)}`, '-i', '50', ...auth];
    let mlog = '';
    const master = h0.spawn(process.execPath, [BIN.master, ...common, '-g', conf, '-L', h0.ipv4]);
    master.stderr?.on('data', (d: Buffer) => (mlog += d.toString()));
    t.ok(await eventually(() => /running/.test(mlog)), 'master runs');

    // Host 2 is client 1's Clientname; it claims to be client 0.
    let rlog = '';
    const spoof = h2.spawn(process.execPath, [BIN.remote, ...common, '-n', '0', '-H', h0.ipv4]);
    spoof.stderr?.on('data', (d: Buffer) => (rlog += d.toString()));
    const why = new RegExp(`rejected this remote \\(address\\): ${h2.ipv4.replace(/\./g, '\\.')} is not ${h1.ipv4.replace(/\./g, '\\.')} \\(Clientname of client 0\\)`);
    if (withKey) {
      t.equal(await exited(spoof), 1, 'the spoofing remote exits 1: the REJECT is authenticated');
    } else {
      // spec §13: without a key a REJECT may be forged, so it never ends a remote for good.
      t.ok(await eventually(() => why.test(rlog), 15_000), 'without a key the spoofing remote says why and keeps trying');
      t.equal(spoof.exitCode, null, 'it is still running');
      spoof.kill('SIGKILL');
      await exited(spoof);
    }
    t.match(rlog, why);
    t.match(mlog, /rejected remote client=0 .*reason=address/, 'the master logs it');

    // The real client 0, from its own host, joins.
    let glog = '';
    const good = h1.spawn(process.execPath, [BIN.remote, ...common, '-n', '0', '-H', h0.ipv4]);
    good.stderr?.on('data', (d: Buffer) => (glog += d.toString()));
    t.ok(await eventually(() => /joined master/.test(glog)), 'client 0 from its Clientname joins');
  });
}

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

/** The child's exit code (or signal), or 'running' when it has not exited within ms. */
function exited(child: ChildProcess, ms: number): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode ?? 'unknown');
  return new Promise((r) => {
    const timer = setTimeout(() => r('running'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      r(code ?? signal ?? 'unknown');
    });
  });
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
    t.ok(await eventually(() => /running/.test(mlog), 30_000), 'master runs');

    // Host 2 is client 1's Clientname; it claims to be client 0.
    let rlog = '';
    const spoof = h2.spawn(process.execPath, [BIN.remote, ...common, '-n', '0', '-H', h0.ipv4]);
    spoof.stderr?.on('data', (d: Buffer) => (rlog += d.toString()));
    const said = new RegExp(
      `rejected this remote \\(address\\): ${h2.ipv4.replace(/\./g, '\\.')} is not ${h1.ipv4.replace(/\./g, '\\.')} \\(Clientname of client 0\\)`,
    );
    if (withKey) {
      // Sealed under the key, the REJECT is the master's own word: a configuration error, exit 1.
      t.equal(await exited(spoof, 30_000), 1, 'the spoofing remote exits 1');
      t.match(rlog, said);
    } else {
      // Without a key nobody can tell a REJECT from a forged one (spec §4.3): the remote logs it and keeps trying.
      t.ok(await eventually(() => said.test(rlog), 30_000), `the spoofing remote says why it is refused (saw: ${rlog.slice(-400)})`);
      t.match(rlog, /keeps trying/, 'and that it keeps trying');
      t.equal(await exited(spoof, 500), 'running', 'the unauthenticated REJECT does not end it');
      spoof.kill('SIGTERM');
      t.not(await exited(spoof, 10_000), 'running', 'it ends on SIGTERM');
    }
    t.match(mlog, /rejected remote client=0 .*reason=address/, 'the master logs it');

    // The real client 0, from its own host, joins.
    let glog = '';
    const good = h1.spawn(process.execPath, [BIN.remote, ...common, '-n', '0', '-H', h0.ipv4]);
    good.stderr?.on('data', (d: Buffer) => (glog += d.toString()));
    t.ok(await eventually(() => /joined master/.test(glog), 30_000), 'client 0 from its Clientname joins');
  });
}

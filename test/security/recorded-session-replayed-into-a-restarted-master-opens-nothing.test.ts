// Issue 19 finding 1 with real daemons: a session recorded on the wire (with a key) and
// replayed, from HELLO on and from another port, into a restarted master never opens
// anything: the master never shows the client up, and RO keeps what it holds.
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { writeKey } from '../fixtures/keys.js';
import { statusJson } from '../fixtures/admin.js';
import { HDR_TYPE, TYPE_HELLO } from '../../src/udp/constants.js';

const keyDir = mkdtempSync(join(tmpdir(), 'pdsm-key-'));
t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
const key = writeKey(keyDir).path;

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

t.test('a recorded session replayed into a restarted master opens nothing', async (t) => {
  const c = await startCluster({ remotes: 1, start: [], masterArgs: ['--psk-file', key], remoteArgs: ['--psk-file', key] });
  t.teardown(() => c.destroy());
  // A relay between remote and master that records every remote -> master datagram.
  const front = await bound();
  const back = await bound();
  t.teardown(() => {
    front.close();
    back.close();
  });
  const recorded: Buffer[] = [];
  let remote: { address: string; port: number } | undefined;
  front.on('message', (b, from) => {
    remote = { address: from.address, port: from.port };
    recorded.push(Buffer.from(b));
    back.send(b, c.port, '127.0.0.1');
  });
  back.on('message', (b) => {
    if (remote) front.send(b, remote.port, remote.address);
  });

  const r = await c.startRemote(0, ['-P', String(front.address().port)]);
  const m = c.attachMaster();
  const rn = c.attachRemote(0);
  rn.ro.writeUInt32LE(0x01d, 64);
  t.ok(await eventually(() => m.roSlice(0).readUInt32LE(64) === 0x01d, 10_000), 'the recorded session replicates RO');
  await r.stop('SIGTERM');
  rn.detach();
  t.ok(recorded.length > 3, `recorded ${recorded.length} datagrams`);
  t.equal(recorded[0]![HDR_TYPE], TYPE_HELLO, 'HELLO first');

  await c.master.stop('SIGTERM');
  const m2 = await c.startMaster();
  m.roSlice(0).writeUInt32LE(0x2e3, 64); // what RO holds now; the replay must not bring 0x01d back
  const replayer = await bound();
  t.teardown(() => replayer.close());
  for (const b of recorded) replayer.send(b, c.port, '127.0.0.1');

  // Every replayed datagram is either dropped (counted) or was a HELLO that only made a pending session.
  const seen = (): number => {
    const s = statusJson(c.place.dir);
    const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
    const got = Object.values(s.wire.received).reduce((a, b) => a + b.datagrams, 0);
    return drops + got;
  };
  t.ok(await eventually(() => seen() >= recorded.length, 10_000), 'the master took in the whole replay');
  const status = statusJson(c.place.dir);
  t.not(status.peers?.[0]?.state, 'up', 'client 0 is not up');
  t.equal(m.roSlice(0).readUInt32LE(64), 0x2e3, 'RO slice 0 keeps what it holds');
  t.notMatch(m2.stderr(), /remote joined/, 'the master never says the client joined');
  t.equal(status.wire.received.data?.datagrams ?? 0, 0, 'no DATA opened');
  t.equal(status.wire.received.commit?.datagrams ?? 0, 0, 'no COMMIT opened');
  t.ok((status.drops['auth-auth'] ?? 0) + (status.drops['no-session'] ?? 0) > 0, 'the session datagrams are dropped before the core');
});

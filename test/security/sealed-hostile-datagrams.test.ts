import t from 'tap';
import { createSocket } from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode, type Message } from '../../src/udp/codec.js';
import { deriveSessionKey, openHandshake, PskKeys, seal, sealHandshake } from '../../src/udp/seal.js';
import { eventually, startCluster, steady } from '../fixtures/cluster.js';
import { writeKey } from '../fixtures/keys.js';
import { Prng, testSeed } from '../fixtures/prng.js';

const seed = testSeed();
t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
const keyDir = mkdtempSync(join(tmpdir(), 'pdsm-key-'));
t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
const { path: keyPath, key } = writeKey(keyDir);
const keys = new PskKeys(key);
const wrong = new PskKeys(randomBytes(32));

type Out = Message extends infer M ? (M extends Message ? M : never) : never;
const hello = (client: number, epoch: number, pn: number): Out => ({
  type: 'hello',
  src: client,
  dst: 0xffff,
  epoch,
  packetNumber: pn,
  versionMin: 2,
  versionMax: 2,
  mtu: 1200,
  pageSize: 1024,
  segSize: 4096,
  bcSize: 0,
  roNextSeq: 5,
  wordSize: 8,
  hostname: null,
  nonce: randomBytes(16),
  options: [],
});
// spec §9.3: HELLO takes a handshake seal (fresh salt); the other types the key of a session
// that the master never opened (the right PSK, nonces the master did not draw).
const sealFor = (k: PskKeys, m: Out): Buffer => {
  if (m.type === 'hello') return sealHandshake(k.psk, encode(m));
  const s = { clientId: m.src, helloNonce: randomBytes(16), welcomeNonce: randomBytes(16), remoteEpoch: m.epoch, masterEpoch: m.epoch };
  return seal(deriveSessionKey(k.psk, s, m.src, m.dst), encode(m));
};

t.test('forged, tampered, truncated, replayed and old-epoch datagrams are rejected and counted; memory is untouched', async (t) => {
  const c = await startCluster({ remotes: 2, start: [0], masterArgs: ['--psk-file', keyPath], remoteArgs: ['--psk-file', keyPath] });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const r0 = c.attachRemote(0);
  master.moSlice(0).writeUInt32LE(1, 0);
  t.ok(await eventually(() => r0.mo.readUInt32LE(0) === 1), 'the real remote is served');
  const hash = (): string => createHash('sha256').update(master.mo).update(master.ro).update(r0.mo).update(r0.ro).digest('hex');
  t.ok(await steady(hash), 'memory stopped changing before the attack');
  const before = hash();

  const s = createSocket('udp4');
  t.teardown(() => s.close());
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const replies: Buffer[] = [];
  s.on('message', (m) => replies.push(m));
  const send = (b: Uint8Array): Promise<void> => new Promise((r) => s.send(b, c.port, '127.0.0.1', () => r()));

  // A valid sealed HELLO for client 1 gets a sealed WELCOME that our key opens.
  const valid = sealFor(keys, hello(1, 1000, 0));
  await send(valid);
  t.ok(await eventually(() => replies.length > 0, 3000), 'the valid HELLO is answered');
  const opened = openHandshake(keys.psk, replies[0]!);
  t.ok(opened.ok && decode(opened.ok ? opened.datagram : Buffer.alloc(0)).ok, 'the answer takes a handshake seal under our PSK');
  const answer = opened.ok ? decode(opened.datagram) : undefined;
  t.equal(answer?.ok && answer.msg.type, 'welcome');
  const answered = replies.length;

  await send(sealFor(wrong, hello(1, 1001, 0))); // forged with another key
  const flipped = Buffer.from(sealFor(keys, hello(1, 1002, 0)));
  const rng = new Prng(seed);
  for (let i = 0; i < 64; i++) {
    const b = Buffer.from(flipped);
    const bit = rng.int(b.length * 8);
    b[bit >> 3]! ^= 1 << (bit & 7); // tampered: one bit anywhere
    await send(b);
  }
  await send(valid.subarray(0, valid.length - 1)); // truncated
  await send(valid.subarray(0, 30)); // truncated into the header
  await send(valid); // replayed: a retransmission of the same session's HELLO, no new session
  await send(sealFor(keys, hello(1, 999, 1))); // an older epoch than the session's
  await send(encode(hello(1, 1003, 0))); // unsealed

  const log = (): string => c.master.stderr();
  t.ok(
    await eventually(() => /reason=auth-auth/.test(log()) && /reason=auth-old-epoch/.test(log()) && /reason=unsealed/.test(log()), 3000),
    'each kind is counted by reason',
  );
  t.match(log(), /reason=decode-short|reason=auth-short/, 'truncated ones too');
  // A marker sent last: unsealed, so the master answers it with REJECT auth-required. It handles
  // one socket's datagrams in order, so once the marker is answered every earlier answer is in.
  const isMarker = (b: Buffer): boolean => {
    const d = decode(b);
    return d.ok && d.msg.type === 'reject' && d.msg.remoteEpoch === 4242;
  };
  await send(encode(hello(1, 4242, 0)));
  t.ok(await eventually(() => replies.some(isMarker), 5000), 'the marker sent last is answered');
  // Only the unsealed HELLO may be answered (REJECT auth-required, unsealed); nothing else.
  const extra = replies
    .slice(answered)
    .map((b) => decode(b))
    .filter((d) => !(d.ok && d.msg.type === 'reject' && d.msg.reason === 'auth-required'));
  t.same(
    extra.filter((d) => d.ok && d.msg.type === 'welcome'),
    [],
    'no forged, tampered, replayed or old datagram was acted on',
  );
  t.notMatch(log(), /remote joined client=1 .*epoch=(1001|1002|999)/);
  // The valid HELLO made a session for client 1, which must not have touched memory.
  t.equal(hash(), before, 'shared memory is byte-identical');
});

t.test(
  "a fuzz of random and mutated sealed datagrams through the running master's socket changes nothing, and replication keeps converging under it",
  async (t) => {
    const c = await startCluster({ remotes: 2, start: [0], masterArgs: ['--psk-file', keyPath], remoteArgs: ['--psk-file', keyPath] });
    t.teardown(() => c.destroy());
    const master = c.attachMaster();
    const r0 = c.attachRemote(0);
    const s = createSocket('udp4');
    t.teardown(() => s.close());
    const rng = new Prng(seed + 1);
    const templates = [
      sealFor(keys, hello(1, 2000, 0)),
      sealFor(keys, {
        type: 'data',
        src: 1,
        dst: 0xffff,
        epoch: 2000,
        packetNumber: 1,
        flow: 'ro',
        seq: 5,
        batchId: 1,
        page: 0,
        offset: 0,
        payload: Buffer.alloc(1024, 0x5a),
      }),
      sealFor(keys, {
        type: 'commit',
        src: 0,
        dst: 0xffff,
        epoch: 2000,
        packetNumber: 2,
        flow: 'ro',
        seq: 6,
        batchId: 1,
        dataCount: 1,
        pageCount: 1,
        replaces: true,
        full: false,
      }),
    ];
    const COUNT = 20_000;
    let i = 0;
    let writes = 0n;
    const started = Date.now();
    while (i < COUNT && Date.now() - started < 30_000) {
      for (let k = 0; k < 200 && i < COUNT; k++, i++) {
        let b: Buffer;
        const kind = rng.int(3);
        if (kind === 0) b = Buffer.from(rng.bytes(1 + rng.int(1400)));
        else {
          b = Buffer.from(templates[rng.int(templates.length)]!);
          // Every mutation changes the datagram (XOR with a non-zero byte, or a cut), so none is valid.
          if (kind === 1) {
            const at = new Set<number>();
            for (let m = 1 + rng.int(4); m > 0; m--) at.add(rng.int(b.length));
            for (const p of at) b[p]! ^= 1 + rng.int(255);
          } else b = b.subarray(0, rng.int(b.length));
        }
        s.send(b, c.port, '127.0.0.1');
      }
      writes++;
      master.moSlice(0).writeBigUInt64LE(writes, 64);
      r0.ro.writeBigUInt64LE(writes, 128);
      await new Promise((r) => setTimeout(r, 5));
    }
    t.equal(i, COUNT, `${COUNT} datagrams sent`);
    t.ok(
      await eventually(() => r0.mo.readBigUInt64LE(64) === writes && master.roSlice(0).readBigUInt64LE(128) === writes, 10_000),
      'replication converged while the junk arrived',
    );
    t.ok(master.roSlice(1).equals(Buffer.alloc(master.segSize)), 'the slice of the client nobody runs is untouched');
    t.equal(c.master.child.exitCode, null, 'the master still runs');
    t.notMatch(c.master.stderr(), /remote joined client=1/, 'no fuzzed datagram made a session');
    const lines = c.master
      .stderr()
      .split('\n')
      .filter((l) => l.includes('dropped datagram'));
    t.ok(lines.length < 200, `drops are logged at most once per second per reason (${lines.length} lines)`);
  },
);

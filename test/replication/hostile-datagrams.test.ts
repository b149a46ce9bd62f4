import t from 'tap';
import { createSocket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { encode } from '../../src/udp/codec.js';
import { Prng, testSeed } from '../fixtures/prng.js';
import { eventually, startCluster, steady } from '../fixtures/cluster.js';

const seed = testSeed();
t.comment(`seed ${seed}`);

t.test('datagrams that do not decode, belong to no flow or come from an unknown source are dropped and counted; memory is untouched', async (t) => {
  const c = await startCluster({ remotes: 2, start: [0] });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const hash = (): string => createHash('sha256').update(master.mo).update(master.ro).digest('hex');
  t.ok(await steady(hash), 'memory stopped changing before the attack');
  const before = hash();

  const rng = new Prng(seed);
  const s = createSocket('udp4');
  t.teardown(() => s.close());
  const send = (b: Uint8Array): Promise<void> => new Promise((r) => s.send(b, c.port, '127.0.0.1', () => r()));
  for (let i = 0; i < 200; i++) await send(rng.bytes(1 + rng.int(1300)));
  // Well-formed DATA for remote 1's RO flow, from a source that never joined.
  const forged = encode({
    type: 'data',
    src: 1,
    dst: 0xffff,
    epoch: 7,
    packetNumber: 1,
    flow: 'ro',
    seq: 1,
    batchId: 1,
    page: 0,
    offset: 0,
    payload: Buffer.alloc(1024, 0xee),
  });
  for (let i = 0; i < 20; i++) await send(forged);
  // And for remote 0's flow, from the wrong port (spoofing its id without its socket).
  const spoof = encode({
    type: 'commit',
    src: 0,
    dst: 0xffff,
    epoch: 7,
    packetNumber: 2,
    flow: 'ro',
    seq: 2,
    batchId: 1,
    dataCount: 1,
    pageCount: 1,
    replaces: true,
    full: false,
  });
  for (let i = 0; i < 20; i++) await send(spoof);

  t.ok(await eventually(() => /reason=not-joined/.test(c.master.stderr()), 3000), 'datagrams from no session are counted');
  t.match(c.master.stderr(), /dropped datagram reason=decode-\w+/, 'junk is counted by decode reason');
  const lines = c.master
    .stderr()
    .split('\n')
    .filter((l) => l.includes('dropped datagram'));
  t.ok(lines.length < 20, `drops are logged at most once per second per reason (${lines.length} lines)`);
  t.equal(hash(), before, 'MO and RO are byte-identical');
  t.equal(c.master.child.exitCode, null, 'the master keeps running');
  const r0 = c.attachRemote(0);
  master.moSlice(0).writeUInt32LE(1234, 64);
  t.ok(await eventually(() => r0.mo.readUInt32LE(64) === 1234), 'and keeps replicating');
  // By now every forged datagram was handled (the master reads its socket in order).
  t.ok(master.roSlice(1).equals(Buffer.alloc(master.segSize)), 'the RO slice of the client nobody runs is still untouched');
});

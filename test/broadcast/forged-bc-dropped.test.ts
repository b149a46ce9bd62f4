import t from 'tap';
import { createSocket } from 'node:dgram';
import { encode } from '../../src/udp/codec.js';
import { eventually, sameBytes, startCluster } from '../fixtures/cluster.js';

t.test('BC datagrams from anyone but the master are dropped and counted; BC is untouched', async (t) => {
  const group = `239.66.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
  const c = await startCluster({
    remotes: 1,
    masterArgs: ['-b', '4096', '-m', group, '--multicast-if', '127.0.0.1'],
    remoteArgs: ['--multicast-if', '127.0.0.1'],
  });
  t.teardown(() => c.destroy());
  const master = c.attachMaster();
  const remote = c.attachRemote(0);
  master.bc!.writeUInt32LE(5, 0);
  t.ok(await eventually(() => remote.bc?.readUInt32LE(0) === 5), 'BC flows');
  const port = Number(/remote joined client=0 address=127\.0\.0\.1:(\d+)/.exec(c.master.stderr())?.[1]);
  t.ok(port > 0, "the remote's port is known");

  const forged = (epoch: number, seq: number) => [
    encode({
      type: 'data',
      src: 0xffff,
      dst: 0xfffe,
      epoch,
      packetNumber: seq,
      flow: 'bc',
      seq,
      batchId: 99,
      page: 0,
      offset: 0,
      payload: Buffer.alloc(1024, 0xab),
    }),
    encode({
      type: 'commit',
      src: 0xffff,
      dst: 0xfffe,
      epoch,
      packetNumber: seq + 1,
      flow: 'bc',
      seq: seq + 1,
      batchId: 99,
      dataCount: 1,
      pageCount: 1,
      replaces: true,
      full: false,
    }),
  ];
  const s = createSocket('udp4');
  t.teardown(() => s.close());
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.setMulticastInterface('127.0.0.1');
  for (let i = 0; i < 5; i++) {
    for (const b of forged(123 + i, 1000 * i)) {
      await new Promise<void>((r) => s.send(b, c.port + 1, group, () => r())); // to the group
      await new Promise<void>((r) => s.send(b, port, '127.0.0.1', () => r())); // straight to the remote
    }
  }
  t.ok(await eventually(() => /dropped datagram reason=unknown-source/.test(c.remotes.get(0)!.stderr()), 3000), 'the remote counts them');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(remote.bc!.readUInt32LE(0), 5, 'BC is untouched');
  t.ok(sameBytes(remote.bc!, master.bc!), "and still equals the master's");
});

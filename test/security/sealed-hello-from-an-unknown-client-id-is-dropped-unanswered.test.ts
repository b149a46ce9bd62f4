// spec §4.6, §9.3 step 3: with a PSK, a sealed HELLO whose Src is not a client id of this
// master (Src >= N) is dropped before it is opened, counted `auth-unknown-route`, and never
// answered (no REJECT client-id); without a PSK the same HELLO gets REJECT client-id.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { decode, encode, type Message } from '../../src/udp/codec.js';
import { openHandshake, sealHandshake } from '../../src/udp/seal.js';
import { readKeyFile } from '../../src/daemon/key-file.js';
import { startMasterUnderTest } from '../fixtures/conformance.js';
import { eventually } from '../fixtures/cluster.js';

const hello = (client: number, epoch: number): Message => ({
  type: 'hello',
  src: client,
  dst: 0xffff,
  epoch,
  packetNumber: 0,
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

for (const psk of [true, false]) {
  t.test(psk ? 'with a PSK: dropped unopened, counted, unanswered' : 'without a PSK: REJECT client-id', async (t) => {
    const m = await startMasterUnderTest({ psk });
    t.teardown(() => m.stop());
    const key = m.keyFile === undefined ? undefined : readKeyFile(m.keyFile);
    const s = createSocket('udp4');
    t.teardown(() => s.close());
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const replies: Message[] = [];
    s.on('message', (b) => {
      const opened = key ? openHandshake(key, b) : { ok: true as const, datagram: b };
      const d = opened.ok ? decode(opened.datagram) : undefined;
      if (d?.ok) replies.push(d.msg);
    });
    const send = (msg: Message): Promise<void> =>
      new Promise((r) => s.send(key ? sealHandshake(key, encode(msg)) : encode(msg), m.place.port, '127.0.0.1', () => r()));
    await send(hello(2, 1000)); // N = 2: ids 0 and 1
    await send(hello(1, 1001)); // a known id, after it: its answer marks that the first was handled
    t.ok(await eventually(() => replies.some((r) => r.type === 'welcome'), 5000), 'the HELLO of client 1 is answered');
    const forTwo = replies.filter((r) => r.dst === 2);
    if (psk) {
      t.same(forTwo, [], 'nothing is sent to client id 2');
      t.ok(await eventually(() => /dropped datagram reason=auth-unknown-route/.test(m.master.stderr()), 3000), 'the drop is counted as auth-unknown-route');
    } else {
      t.equal(forTwo.length, 1);
      t.match(forTwo[0], { type: 'reject', reason: 'client-id', expected: 2, offered: 2 }, 'REJECT client-id, Expected N, Offered the id');
    }
  });
}

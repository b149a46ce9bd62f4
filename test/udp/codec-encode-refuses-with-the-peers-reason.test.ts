// spec §3.1, §10.1: every type has its code, encode() refuses what a peer would reject and
// says why, and encodeUnchecked() skips only that check.
import t from 'tap';
import { decode, encode, encodeUnchecked, TYPE_CODES, type Message } from '../../src/udp/codec.js';
import { HDR_TYPE } from '../../src/udp/constants.js';
import { Prng } from '../fixtures/prng.js';
import { MESSAGE_TYPES, randomMessage } from '../fixtures/random-messages.js';

t.test('each message type has the code of spec §3.1 and encodes with it', async (t) => {
  t.same(TYPE_CODES, { hello: 1, welcome: 2, reject: 3, goodbye: 4, heartbeat: 5, data: 0x10, commit: 0x11, nack: 0x12, digest: 0x13, resync: 0x14 });
  const p = new Prng(0xc0de);
  for (const type of MESSAGE_TYPES) {
    const bytes = encode(randomMessage(p, type));
    t.equal(bytes[HDR_TYPE], TYPE_CODES[type], `${type} carries its code`);
    const r = decode(bytes);
    t.equal(r.ok && r.msg.type, type, `${type} decodes as ${type}`);
  }
});

t.test('encode() refuses a message a peer would reject and names the type and the reason', async (t) => {
  const commit: Message = {
    type: 'commit',
    src: 0xffff,
    dst: 2,
    epoch: 1,
    packetNumber: 0,
    flow: 'mo',
    seq: 1,
    batchId: 1,
    dataCount: 2,
    pageCount: 3,
    replaces: false,
    full: false,
  };
  t.throws(() => encode(commit), { name: 'RangeError', message: 'commit message would be rejected by a peer: count' });
  const bytes = encodeUnchecked(commit);
  t.equal(bytes.length, 40, 'encodeUnchecked builds it all the same');
  t.same(decode(bytes), { ok: false, reason: 'count' });
});

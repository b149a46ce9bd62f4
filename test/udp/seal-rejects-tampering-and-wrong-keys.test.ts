// spec §9.3: a sealed datagram opens only unchanged and only with its own session key.
import t from 'tap';
import { encode } from '../../src/udp/codec.js';
import { FLAG_SEALED, HDR_FLAGS, TAG_SIZE } from '../../src/udp/constants.js';
import { deriveSessionKey, isSealed, open, seal, type SessionSecrets } from '../../src/udp/seal.js';
import { Prng } from '../fixtures/prng.js';
import { randomMessage } from '../fixtures/random-messages.js';

const psk = Buffer.from('a test pre-shared key of 32 byte');
const other = Buffer.from('another pre-shared key, 32 bytes');
const secrets = (clientId: number): SessionSecrets => ({
  clientId,
  helloNonce: Buffer.alloc(16, 1),
  welcomeNonce: Buffer.alloc(16, 2),
  remoteEpoch: 9,
  masterEpoch: 10,
});
const keyOf = (p: Uint8Array, src: number, dst: number): Buffer => deriveSessionKey(p, secrets(src === 0xffff ? dst : src), src, dst);

t.test('flipping any single bit of a sealed datagram makes open() reject it', async (t) => {
  const msg = { type: 'nack' as const, src: 3, dst: 0xffff, epoch: 9, packetNumber: 77, flow: 'mo' as const, ranges: [{ first: 1, count: 2 }] };
  const key = keyOf(psk, msg.src, msg.dst);
  const sealed = seal(key, encode(msg));
  t.equal(sealed.length, encode(msg).length + TAG_SIZE, 'sealing adds the tag only');
  t.ok(isSealed(sealed));
  t.equal((sealed[HDR_FLAGS] ?? 0) & FLAG_SEALED, FLAG_SEALED);
  const good = open(key, sealed);
  t.ok(good.ok, 'the untouched datagram opens');
  let accepted = 0;
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const bad = Buffer.from(sealed);
    bad[bit >>> 3] = (bad[bit >>> 3] ?? 0) ^ (0x80 >>> (bit & 7));
    if (open(key, bad).ok) accepted++;
  }
  t.equal(accepted, 0, `none of ${sealed.length * 8} one-bit changes opens`);
  t.same(open(key, sealed.subarray(0, sealed.length - 1)), { ok: false, reason: 'auth' }, 'a truncated tag fails');
  t.same(open(key, sealed.subarray(0, 30)), { ok: false, reason: 'short' });
  t.same(open(key, Buffer.concat([encode(msg), Buffer.alloc(TAG_SIZE)])), { ok: false, reason: 'not-sealed' });
});

t.test("a datagram does not open with another PSK or another route's key", async (t) => {
  const p = new Prng(0x5ea1);
  for (let i = 0; i < 200; i++) {
    const msg = randomMessage(p);
    const plain = encode(msg);
    const sealed = seal(keyOf(psk, msg.src, msg.dst), plain);
    const opened = open(keyOf(psk, msg.src, msg.dst), sealed);
    if (!opened.ok || !opened.datagram.equals(plain)) t.fail(`round ${i}: did not open to the plain datagram`);
    if (open(keyOf(other, msg.src, msg.dst), sealed).ok) t.fail(`round ${i}: opened with another PSK`);
    if (open(keyOf(psk, msg.dst, msg.src), sealed).ok) t.fail(`round ${i}: opened with the reverse route's key`);
  }
  t.pass('200 random sealed datagrams open only with their own key');
});

t.test('short pre-shared keys are refused', async (t) => {
  t.throws(() => keyOf(Buffer.alloc(15), 0, 0xffff), RangeError);
  t.throws(() => seal(keyOf(psk, 0, 0xffff), Buffer.alloc(10)), RangeError);
});

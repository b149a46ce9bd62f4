// spec §9.2, §9.3: sealing works down to a bare header, open() tells short, foreign and
// unsealed input apart, and every direction of every session has its own key.
import t from 'tap';
import { FLAG_SEALED, HDR_FLAGS, HEADER_SIZE, TAG_SIZE } from '../../src/udp/constants.js';
import { deriveSessionKey, isSealed, open, PskKeys, seal, type SessionSecrets } from '../../src/udp/seal.js';
import { Writer, writeHeader } from '../../src/udp/header.js';

const psk = Buffer.from('0123456789abcdef'); // exactly the 16-byte minimum

const session: SessionSecrets = {
  clientId: 1,
  helloNonce: Buffer.alloc(16, 0xa0),
  welcomeNonce: Buffer.alloc(16, 0xc0),
  remoteEpoch: 4,
  masterEpoch: 9,
};
const keyOf = (src: number, dst: number, s: SessionSecrets = session, p: Uint8Array = psk): Buffer => deriveSessionKey(p, s, src, dst);

function bareHeader(flags = 0): Buffer {
  const w = new Writer(HEADER_SIZE);
  writeHeader(w, 0x05, flags, 0, { src: 1, dst: 0xffff, epoch: 4, packetNumber: 8 });
  return w.buf;
}

t.test('a PSK of exactly 16 bytes is enough, 15 is not', async (t) => {
  t.equal(keyOf(1, 0xffff).length, 32);
  t.doesNotThrow(() => new PskKeys(psk));
  t.throws(() => keyOf(1, 0xffff, session, psk.subarray(0, 15)), { message: 'a pre-shared key needs at least 16 bytes' });
  t.throws(() => new PskKeys(psk.subarray(0, 15)), { message: 'a pre-shared key needs at least 16 bytes' });
});

t.test('each direction, each session and each epoch pair has its own key', async (t) => {
  t.same(new PskKeys(psk).sessionKeys(session, 'remote'), { send: keyOf(1, 0xffff), receive: keyOf(0xffff, 1) }, 'PskKeys derives the same keys');
  t.notSame(keyOf(1, 0xffff), keyOf(0xffff, 1), 'the two directions differ');
  t.notSame(keyOf(1, 0xffff), keyOf(1, 0xffff, { ...session, welcomeNonce: Buffer.alloc(16, 0xc1) }), "another WELCOME's nonce differs");
  t.notSame(keyOf(1, 0xffff), keyOf(1, 0xffff, { ...session, helloNonce: Buffer.alloc(16, 0xa1) }), "another HELLO's nonce differs");
  t.notSame(keyOf(1, 0xffff), keyOf(1, 0xffff, { ...session, masterEpoch: 10 }), 'another master epoch differs');
});

t.test('a bare header seals to header plus tag, opens again, and anything shorter is refused', async (t) => {
  const key = keyOf(1, 0xffff);
  const sealed = seal(key, bareHeader());
  t.equal(sealed.length, HEADER_SIZE + TAG_SIZE);
  t.equal(sealed[HDR_FLAGS]! & FLAG_SEALED, FLAG_SEALED);
  const opened = open(key, sealed);
  t.ok(opened.ok && opened.datagram.equals(bareHeader()), 'opens to the bare header, SEALED cleared');
  t.same(open(key, sealed.subarray(0, HEADER_SIZE + TAG_SIZE - 1)), { ok: false, reason: 'short' });
  t.throws(() => seal(key, bareHeader().subarray(0, HEADER_SIZE - 1)), { message: 'datagram shorter than the header' });
  t.throws(() => seal(key, bareHeader(FLAG_SEALED)), { message: 'datagram is already sealed' });
});

t.test('open() says why it refuses: not PDSM, not sealed, or failing authentication', async (t) => {
  const key = keyOf(1, 0xffff);
  const sealed = seal(key, Buffer.concat([bareHeader(), Buffer.from('body')]));
  const foreign = Buffer.from(sealed);
  foreign[0] = 0x51;
  t.same(open(key, foreign), { ok: false, reason: 'magic' });
  const cleared = Buffer.from(sealed);
  cleared[HDR_FLAGS] = cleared[HDR_FLAGS]! & ~FLAG_SEALED;
  t.same(open(key, cleared), { ok: false, reason: 'not-sealed' });
  t.same(open(keyOf(0xffff, 1), sealed), { ok: false, reason: 'auth' }, "the reverse route's key");
  t.same(open(key.subarray(0, 16), sealed), { ok: false, reason: 'auth' }, 'a key of the wrong length');
  const ok = open(key, sealed);
  t.ok(ok.ok && ok.datagram.subarray(HEADER_SIZE).toString() === 'body', 'the body comes back');
  t.notOk(sealed.subarray(HEADER_SIZE, HEADER_SIZE + 4).toString() === 'body', 'and travelled encrypted');
});

t.test('isSealed reads the flag of a whole header only', async (t) => {
  t.ok(isSealed(bareHeader(FLAG_SEALED)));
  t.notOk(isSealed(bareHeader()));
  t.notOk(isSealed(bareHeader(FLAG_SEALED).subarray(0, HEADER_SIZE - 1)), 'a cut header is not a sealed datagram');
});

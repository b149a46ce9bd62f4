// spec §9.2, §9.3, §9.6 (version 2): what the key derivations refuse and name, which side
// sends under which session key, what sealHandshake and openHandshake refuse and why, and
// the address cookie (RFC 9000 §8.1 style): bound to every input, one form per address.
// Found by mutation testing (issue 18): the cookie jar ran only inside session tests, and
// the refusals of the handshake seal were never asked for.
import t from 'tap';
import {
  CookieJar,
  deriveGroupKey,
  deriveHandshakeKey,
  deriveSessionKey,
  deriveSessionKeys,
  isHandshakeType,
  open,
  openHandshake,
  seal,
  sealHandshake,
  type CookieInput,
  type SessionSecrets,
} from '../../src/udp/seal.js';
import { encode, type Message } from '../../src/udp/codec.js';
import { HANDSHAKE_SALT_SIZE, HEADER_SIZE, NODE_MASTER, TAG_SIZE, TYPE_HELLO, TYPE_REJECT, TYPE_WELCOME } from '../../src/udp/constants.js';

const psk = Buffer.alloc(32, 0x5a);
const n16 = (b: number) => new Uint8Array(16).fill(b);
const secrets: SessionSecrets = { clientId: 3, helloNonce: n16(1), welcomeNonce: n16(2), remoteEpoch: 10, masterEpoch: 20 };

const goodbye = (src: number, dst: number): Buffer => encode({ type: 'goodbye', src, dst, epoch: 5, packetNumber: 1, reason: 'shutdown' } as Message);
const reject = (): Buffer =>
  encode({
    type: 'reject',
    src: NODE_MASTER,
    dst: 3,
    epoch: 5,
    packetNumber: 0,
    remoteEpoch: 9,
    expected: 0,
    offered: 0,
    reason: 'seg-size',
    text: null,
    options: [],
  } as Message);

t.test('the derivations refuse a nonce or salt of the wrong length, naming it', async (t) => {
  t.throws(() => deriveSessionKey(psk, { ...secrets, helloNonce: new Uint8Array(15) }, NODE_MASTER, 3), new RangeError('helloNonce must be 16 bytes, got 15'));
  t.throws(
    () => deriveSessionKey(psk, { ...secrets, welcomeNonce: new Uint8Array(17) }, NODE_MASTER, 3),
    new RangeError('welcomeNonce must be 16 bytes, got 17'),
  );
  t.throws(() => deriveGroupKey(psk, new Uint8Array(8), 20), new RangeError('groupNonce must be 16 bytes, got 8'));
  t.throws(
    () => deriveHandshakeKey(psk, new Uint8Array(HANDSHAKE_SALT_SIZE - 1), 3, NODE_MASTER),
    new RangeError(`a handshake salt is ${HANDSHAKE_SALT_SIZE} bytes`),
  );
  t.equal(deriveHandshakeKey(psk, new Uint8Array(HANDSHAKE_SALT_SIZE), 3, NODE_MASTER).byteLength, 32, 'the right sizes give a 32-byte key');
});

t.test('each side sends under the key the other receives under, and the two directions differ', async (t) => {
  const master = deriveSessionKeys(psk, secrets, 'master');
  const remote = deriveSessionKeys(psk, secrets, 'remote');
  t.same(master.send, deriveSessionKey(psk, secrets, NODE_MASTER, 3), 'the master sends master -> client');
  t.same(master.send, remote.receive);
  t.same(remote.send, master.receive);
  t.notSame(master.send, master.receive);
  const sealed = seal(master.send, goodbye(NODE_MASTER, 3));
  t.equal(open(remote.receive, sealed).ok, true, "the remote opens the master's datagram");
  t.same(open(remote.send, sealed), { ok: false, reason: 'auth' }, 'not with its own send key');
});

t.test('only HELLO, WELCOME and REJECT are handshake types', async (t) => {
  t.same(Array.from({ length: 256 }, (_, i) => i).filter(isHandshakeType), [TYPE_HELLO, TYPE_WELCOME, TYPE_REJECT]);
});

t.test('sealHandshake refuses what it cannot seal, saying why', async (t) => {
  t.throws(() => sealHandshake(psk, reject().subarray(0, HEADER_SIZE - 1)), new RangeError('datagram shorter than the header'));
  t.throws(() => sealHandshake(psk, goodbye(NODE_MASTER, 3)), new RangeError('only HELLO, WELCOME and REJECT take a handshake seal'));
  const headerOnly = reject().subarray(0, HEADER_SIZE);
  t.equal(sealHandshake(psk, headerOnly, n16(7)).byteLength, HEADER_SIZE + HANDSHAKE_SALT_SIZE + TAG_SIZE, 'a header alone is long enough to seal');
  const once = sealHandshake(psk, reject(), n16(7));
  t.throws(() => sealHandshake(psk, once), new RangeError('datagram is already sealed'));
  t.throws(() => seal(psk, seal(psk, goodbye(NODE_MASTER, 3))), new RangeError('datagram is already sealed'), 'nor seal() twice');
  t.throws(() => seal(psk, new Uint8Array(HEADER_SIZE - 1)), new RangeError('datagram shorter than the header'));
});

t.test('openHandshake: its reasons, the shortest datagram it tries, and a round trip', async (t) => {
  const plain = reject();
  const sealed = sealHandshake(psk, plain, n16(7));
  t.equal(sealed.byteLength, plain.byteLength + HANDSHAKE_SALT_SIZE + TAG_SIZE, 'header || salt || body || tag');
  const back = openHandshake(psk, sealed);
  t.same(back, { ok: true, datagram: plain }, 'opens to the plain datagram, SEALED cleared, salt removed');
  const min = HEADER_SIZE + HANDSHAKE_SALT_SIZE + TAG_SIZE;
  t.same(openHandshake(psk, sealed.subarray(0, min - 1)), { ok: false, reason: 'short' }, `${min - 1} bytes: short`);
  const bare = Buffer.concat([sealed.subarray(0, HEADER_SIZE + HANDSHAKE_SALT_SIZE), Buffer.alloc(TAG_SIZE)]);
  t.same(openHandshake(psk, bare), { ok: false, reason: 'auth' }, `${min} bytes: long enough to try, and the tag fails`);
  const notPdsm = Buffer.from(sealed);
  notPdsm[0] = 0;
  t.same(openHandshake(psk, notPdsm), { ok: false, reason: 'magic' });
  const clear = Buffer.concat([plain, Buffer.alloc(HANDSHAKE_SALT_SIZE + TAG_SIZE)]);
  t.same(openHandshake(psk, clear), { ok: false, reason: 'not-sealed' });
  const session = seal(deriveSessionKey(psk, secrets, NODE_MASTER, 3), goodbye(NODE_MASTER, 3));
  t.same(
    openHandshake(psk, Buffer.concat([session, Buffer.alloc(HANDSHAKE_SALT_SIZE)])),
    { ok: false, reason: 'auth' },
    'a sealed GOODBYE is no handshake datagram',
  );
  const tampered = Buffer.from(sealed);
  tampered[HEADER_SIZE + 2] = (tampered[HEADER_SIZE + 2] ?? 0) ^ 1; // in the clear salt, which is AAD
  t.same(openHandshake(psk, tampered), { ok: false, reason: 'auth' });
  t.same(openHandshake(Buffer.alloc(32, 1), sealed), { ok: false, reason: 'auth' }, 'another PSK');
});

t.test('a failed open leaves Error.stackTraceLimit as it was', async (t) => {
  const before = Error.stackTraceLimit;
  t.same(open(psk, seal(Buffer.alloc(32, 2), goodbye(NODE_MASTER, 3))), { ok: false, reason: 'auth' });
  t.equal(Error.stackTraceLimit, before);
  t.ok(new Error('x').stack?.includes('\n'), 'stack traces still work afterwards');
});

t.test('the cookie jar: a secret of at least 16 bytes, a cookie bound to every input', async (t) => {
  t.throws(() => new CookieJar(new Uint8Array(15)), new RangeError('a cookie secret needs at least 16 bytes'));
  const jar = new CookieJar(new Uint8Array(16).fill(9));
  const c: CookieInput = { clientId: 3, remoteEpoch: 10, helloNonce: n16(1), address: '127.0.0.1', port: 40000 };
  const cookie = jar.make(c);
  t.equal(cookie.byteLength, 16);
  t.equal(jar.check(c, cookie), true);
  t.equal(jar.check(c, null), false, 'none');
  t.equal(jar.check(c, cookie.subarray(0, 15)), false, 'a cut one');
  t.equal(jar.check(c, Buffer.alloc(16)), false, 'zeros');
  t.throws(() => jar.make({ ...c, helloNonce: new Uint8Array(12) }), new RangeError('helloNonce must be 16 bytes, got 12'));
  for (const [what, other] of [
    ['client id', { ...c, clientId: 4 }],
    ['remote epoch', { ...c, remoteEpoch: 11 }],
    ['HELLO nonce', { ...c, helloNonce: n16(2) }],
    ['address', { ...c, address: '127.0.0.2' }],
    ['port', { ...c, port: 40001 }],
  ] as const) {
    t.equal(jar.check(other, cookie), false, `another ${what}: not this cookie`);
  }
  t.equal(new CookieJar(new Uint8Array(16).fill(8)).check(c, cookie), false, "another master's secret");
});

t.test('one address, one cookie: IPv4 and its mapped form, IPv6 in any case; different addresses differ', async (t) => {
  const jar = new CookieJar(new Uint8Array(32).fill(4));
  const at = (address: string) => jar.make({ clientId: 0, remoteEpoch: 1, helloNonce: n16(1), address, port: 1 });
  t.same(at('::ffff:10.1.2.3'), at('10.1.2.3'), 'IPv4-mapped = IPv4');
  t.same(at('FE80::1'), at('fe80::1'), 'IPv6 case');
  t.notSame(at('10.1.2.3'), at('10.1.2.4'));
  t.notSame(at('::1'), at('::2'));
  t.notSame(at('::ffff:abcd'), at('abcd'), 'an IPv6 address that merely starts ::ffff: keeps its prefix');
});

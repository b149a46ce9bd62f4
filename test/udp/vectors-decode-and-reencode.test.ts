// spec/protocol.md Appendix A: every vector decodes to its documented fields and its
// fields encode to exactly its bytes (sealed vectors: the key derives from the documented
// inputs, and open() and seal() map the two forms onto each other byte for byte).
import t from 'tap';
import { decode, encode } from '../../src/udp/codec.js';
import { deriveGroupKey, deriveHandshakeKey, deriveSessionKey, open, openHandshake, seal, sealHandshake } from '../../src/udp/seal.js';
import { loadVectors, messageFromJson, messageToJson } from '../fixtures/vectors.js';
import type { SealedInfo } from '../fixtures/vectors.js';

const { vectors } = loadVectors();
const bytes = (hex: string | undefined): Buffer => Buffer.from(hex ?? '', 'hex');

function keyOf(s: SealedInfo, src: number, dst: number, epoch: number): Buffer {
  const psk = bytes(s.psk);
  if (s.kind === 'handshake') return deriveHandshakeKey(psk, bytes(s.salt), src, dst);
  if (s.kind === 'group') return deriveGroupKey(psk, bytes(s.groupNonce), epoch);
  const ss = s.session;
  if (ss === undefined) throw new Error('a session vector needs its session inputs');
  return deriveSessionKey(psk, { ...ss, helloNonce: bytes(ss.helloNonce), welcomeNonce: bytes(ss.welcomeNonce) }, src, dst);
}

for (const v of vectors) {
  t.test(`vector ${v.name} decodes to its fields and re-encodes byte for byte`, async (t) => {
    const wire = Buffer.from(v.hex, 'hex');
    let plain: Buffer = wire;
    const s = v.sealed;
    if (s !== undefined) {
      const key = keyOf(s, Number(v.message['src']), Number(v.message['dst']), Number(v.message['epoch']));
      t.equal(key.toString('hex'), s.key, `the ${s.kind} key derives from the documented inputs`);
      const opened = s.kind === 'handshake' ? openHandshake(bytes(s.psk), wire) : open(key, wire);
      if (!opened.ok) throw new Error(`open failed: ${opened.reason}`);
      t.equal(opened.datagram.toString('hex'), s.plain, 'opening gives the documented plain datagram');
      const again = s.kind === 'handshake' ? sealHandshake(bytes(s.psk), opened.datagram, bytes(s.salt)) : seal(key, opened.datagram);
      t.equal(again.toString('hex'), v.hex, 'sealing gives the sealed bytes again');
      plain = opened.datagram;
    }
    const r = decode(plain);
    if (!r.ok) throw new Error(`decode rejected ${v.name}: ${r.reason}`);
    t.same(messageToJson(r.msg), v.message, 'decoded fields match the vector');
    const again = encode(messageFromJson(v.message));
    t.equal(again.toString('hex'), plain.toString('hex'), 'encoding the fields gives the same bytes');
  });
}

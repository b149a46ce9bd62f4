// spec/protocol.md Appendix A: every vector decodes to its documented fields and its
// fields encode to exactly its bytes (sealed vectors: through open() and seal()).
import t from 'tap';
import { decode, encode } from '../../src/udp/codec.js';
import { deriveKey, open, seal } from '../../src/udp/seal.js';
import { loadVectors, messageFromJson, messageToJson } from '../fixtures/vectors.js';

const { vectors } = loadVectors();

for (const v of vectors) {
  t.test(`vector ${v.name} decodes to its fields and re-encodes byte for byte`, async (t) => {
    const wire = Buffer.from(v.hex, 'hex');
    let plain: Buffer = wire;
    if (v.sealed !== undefined) {
      const key = deriveKey(Buffer.from(v.sealed.psk, 'hex'), Number(v.message['src']), Number(v.message['dst']));
      t.equal(key.toString('hex'), v.sealed.key, 'the key derives from the PSK as documented');
      const opened = open(key, wire);
      if (!opened.ok) throw new Error(`open failed: ${opened.reason}`);
      t.equal(opened.datagram.toString('hex'), v.sealed.plain, 'open() gives the documented plain datagram');
      t.equal(seal(key, opened.datagram).toString('hex'), v.hex, 'seal() gives the sealed bytes again');
      plain = opened.datagram;
    }
    const r = decode(plain);
    if (!r.ok) throw new Error(`decode rejected ${v.name}: ${r.reason}`);
    t.same(messageToJson(r.msg), v.message, 'decoded fields match the vector');
    const again = encode(messageFromJson(v.message));
    t.equal(again.toString('hex'), plain.toString('hex'), 'encoding the fields gives the same bytes');
  });
}

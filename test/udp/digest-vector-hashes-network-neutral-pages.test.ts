// spec §5.4: a page hash is XXH64, seed 0, over the page in network-neutral form; the
// DIGEST vector's hashes are those of the pages its description names.
import t from 'tap';
import { native } from '../../src/segments/native.js';
import { toWire } from '../../src/segments/word-codec.js';
import { loadVectors } from '../fixtures/vectors.js';

t.test('the digest vector carries XXH64 of a zero page and of words 0..127 in big-endian form', async (t) => {
  const v = loadVectors().vectors.find((x) => x.name === 'digest');
  if (v === undefined) throw new Error('no digest vector');
  const counting = new Uint8Array(1024);
  toWire(new Uint8Array(BigUint64Array.from({ length: 128 }, (_, i) => BigInt(i)).buffer), counting, 8);
  t.equal(counting[15], 1, 'word 1 (bytes 8..15) ends in its least significant byte (big-endian)');
  const expected = [native.xxh64(new Uint8Array(1024), 0n), native.xxh64(counting, 0n)].map((h) => `0x${h.toString(16).padStart(16, '0')}`);
  t.same(v.message['hashes'], expected);
  t.equal(native.xxh64(new Uint8Array(0), 0n), 0xef46db3751d8e999n, 'XXH64 of the empty input as the spec quotes it');
});

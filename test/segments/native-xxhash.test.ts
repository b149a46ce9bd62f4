// The addon's hashes, both xxHash's own code (issue 17): XXH64 for the wire (spec §5.4,
// DIGEST) and XXH3-64 for the scanner's local change detection. Published vectors, then
// agreement with the same sources as the xxhash-addon package builds them itself (another
// compile and another wrapper: it catches our seed, length or offset handling, not xxHash).
import t from 'tap';
import { createRequire } from 'node:module';
import { native } from '../../src/segments/native.js';
import { Prng, testSeed } from '../fixtures/prng.js';

interface AddonHash {
  update(data: Buffer): void;
  digest(): Buffer;
}
const xxhashAddon = createRequire(import.meta.url)('xxhash-addon') as {
  XXHash64: new (seed: Buffer) => AddonHash;
  XXHash3: new (seed: Buffer) => AddonHash;
};
const MASK = (1n << 64n) - 1n;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function theirs(kind: 'XXHash64' | 'XXHash3', data: Uint8Array, seed: bigint): bigint {
  const seedBytes = Buffer.alloc(8);
  seedBytes.writeBigUInt64BE(seed); // the package takes the seed big-endian
  const h = new xxhashAddon[kind](seedBytes);
  h.update(Buffer.from(data));
  return h.digest().readBigUInt64BE(0);
}

t.test('xxh64 gives the published values for "", "a" and "abc" with seed 0 (spec §5.4 quotes the first)', async (t) => {
  t.equal(native.xxh64(ascii(''), 0n), 0xef46db3751d8e999n);
  t.equal(native.xxh64(ascii('a'), 0n), 0xd24ec4f1a98c6e5bn);
  t.equal(native.xxh64(ascii('abc'), 0n), 0x44bc2cf5ad770999n);
});

t.test('xxh3 gives the published value for the empty input with seed 0', async (t) => {
  t.equal(native.xxh3(ascii(''), 0n), 0x2d06800538d394c2n);
  t.not(native.xxh3(ascii('abc'), 0n), native.xxh64(ascii('abc'), 0n), 'and is another hash than XXH64');
});

for (const [name, kind] of [
  ['xxh64', 'XXHash64'],
  ['xxh3', 'XXHash3'],
] as const) {
  t.test(`${name} agrees with xxhash-addon's build for every length 0..300, 1024, 4096 and 100,000, aligned or not, under several seeds`, async (t) => {
    const seed = testSeed();
    t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
    const prng = new Prng(seed);
    const hashSeeds = [0n, 1n, 0x9e3779b97f4a7c15n, MASK, (BigInt(prng.nextUint32()) << 32n) | BigInt(prng.nextUint32())];
    const lengths = [...Array.from({ length: 301 }, (_, i) => i), 1024, 4096, 100_000];
    let mismatches = 0;
    let compared = 0;
    for (const length of lengths) {
      // One spare byte in front so odd offsets exercise unaligned reads as well.
      const backing = prng.bytes(length + 1);
      for (const offset of [0, 1]) {
        const data = backing.subarray(offset, offset + length);
        for (const hashSeed of hashSeeds) {
          const got = native[name](data, hashSeed);
          const want = theirs(kind, data, hashSeed);
          compared++;
          if (got !== want) {
            mismatches++;
            if (mismatches <= 5) t.equal(got, want, `length ${length}, offset ${offset}, seed ${hashSeed}`);
          }
        }
      }
    }
    t.equal(compared, lengths.length * 2 * hashSeeds.length, 'every case was compared');
    t.equal(mismatches, 0, `all ${lengths.length} lengths agree`);
  });
}

t.test('hashPages writes the xxh64 of each page into out and returns the page count', async (t) => {
  const seed = testSeed();
  t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
  const prng = new Prng(seed);
  for (const pageSize of [1, 7, 32, 1024, 4096]) {
    const pages = 5;
    const data = prng.bytes(pageSize * pages + 3).subarray(3); // unaligned on purpose
    const hashSeed = BigInt(prng.nextUint32());
    const out = new BigUint64Array(pages + 2).fill(0xdeadn); // longer than needed
    t.equal(native.hashPages(data, pageSize, hashSeed, out), pages, `count for pageSize ${pageSize}`);
    for (let i = 0; i < pages; i++) {
      const page = data.subarray(i * pageSize, (i + 1) * pageSize);
      t.equal(out[i], native.xxh64(page, hashSeed), `page ${i} of pageSize ${pageSize}`);
    }
    t.same([out[pages], out[pages + 1]], [0xdeadn, 0xdeadn], 'entries past the count untouched');
  }
});

t.test('hashPages of an empty buffer hashes nothing and returns 0', async (t) => {
  const out = new BigUint64Array(0);
  t.equal(native.hashPages(new Uint8Array(0), 1024, 0n, out), 0);
});

t.test('hashPages refuses a page size that does not divide the data or an out array too short', async (t) => {
  const data = new Uint8Array(4096);
  t.throws(() => native.hashPages(data, 0, 0n, new BigUint64Array(8)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => native.hashPages(data, -1024, 0n, new BigUint64Array(8)), { name: 'RangeError' });
  t.throws(() => native.hashPages(data, 1000, 0n, new BigUint64Array(8)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => native.hashPages(data, 1024, 0n, new BigUint64Array(3)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => native.hashPages(data, 1024, -1n, new BigUint64Array(4)), { name: 'RangeError' });
  t.throws(() => native.hashPages(data, 1024, 1n << 64n, new BigUint64Array(4)), { name: 'RangeError' });
});

t.test('hashPagesXxh3 writes the xxh3 of each page into out and refuses the same bad arguments', async (t) => {
  const prng = new Prng(testSeed());
  for (const pageSize of [1, 7, 32, 1024, 4096]) {
    const pages = 5;
    const data = prng.bytes(pageSize * pages + 3).subarray(3); // unaligned on purpose
    const hashSeed = BigInt(prng.nextUint32());
    const out = new BigUint64Array(pages + 1).fill(0xdeadn);
    t.equal(native.hashPagesXxh3(data, pageSize, hashSeed, out), pages, `count for pageSize ${pageSize}`);
    const want = Array.from({ length: pages }, (_, i) => native.xxh3(data.subarray(i * pageSize, (i + 1) * pageSize), hashSeed));
    t.same([...out.subarray(0, pages)], want, `every page of pageSize ${pageSize}`);
    t.equal(out[pages], 0xdeadn, 'the entry past the count untouched');
  }
  const data = new Uint8Array(4096);
  t.throws(() => native.hashPagesXxh3(data, 1000, 0n, new BigUint64Array(8)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => native.hashPagesXxh3(data, 1024, 0n, new BigUint64Array(3)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => native.hashPagesXxh3(data, 1024, 1n << 64n, new BigUint64Array(4)), { name: 'RangeError' });
});

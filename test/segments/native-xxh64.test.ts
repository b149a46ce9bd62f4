// The addon's XXH64 and hashPages: published vectors, agreement with an independent
// BigInt implementation of the spec, and hashPages = xxh64 of each page.
import t from 'tap';
import { native } from '../../src/segments/native.js';
import { Prng, testSeed } from '../fixtures/prng.js';

// A straight BigInt transcription of the XXH64 spec
// (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), slow but obviously right.
const MASK = (1n << 64n) - 1n;
const PRIME64_1 = 0x9e3779b185ebca87n;
const PRIME64_2 = 0xc2b2ae3d27d4eb4fn;
const PRIME64_3 = 0x165667b19e3779f9n;
const PRIME64_4 = 0x85ebca77c2b2ae63n;
const PRIME64_5 = 0x27d4eb2f165667c5n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const round = (acc: bigint, lane: bigint): bigint =>
  (rotl((acc + lane * PRIME64_2) & MASK, 31n) * PRIME64_1) & MASK;
const merge = (acc: bigint, v: bigint): bigint => (((acc ^ round(0n, v)) * PRIME64_1) + PRIME64_4) & MASK;

function referenceXxh64(data: Uint8Array, seed: bigint): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + PRIME64_1 + PRIME64_2) & MASK;
    let v2 = (seed + PRIME64_2) & MASK;
    let v3 = seed;
    let v4 = (seed - PRIME64_1) & MASK;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = (seed + PRIME64_5) & MASK;
  }
  h = (h + BigInt(len)) & MASK;
  for (; p + 8 <= len; p += 8) {
    h ^= round(0n, view.getBigUint64(p, true));
    h = (rotl(h, 27n) * PRIME64_1 + PRIME64_4) & MASK;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(view.getUint32(p, true)) * PRIME64_1) & MASK;
    h = (rotl(h, 23n) * PRIME64_2 + PRIME64_3) & MASK;
    p += 4;
  }
  for (; p < len; p++) {
    h ^= (BigInt(data[p] ?? 0) * PRIME64_5) & MASK;
    h = (rotl(h, 11n) * PRIME64_1) & MASK;
  }
  h ^= h >> 33n;
  h = (h * PRIME64_2) & MASK;
  h ^= h >> 29n;
  h = (h * PRIME64_3) & MASK;
  h ^= h >> 32n;
  return h;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('xxh64 gives the published values for "", "a" and "abc" with seed 0', async (t) => {
  t.equal(native.xxh64(ascii(''), 0n), 0xef46db3751d8e999n);
  t.equal(native.xxh64(ascii('a'), 0n), 0xd24ec4f1a98c6e5bn);
  t.equal(native.xxh64(ascii('abc'), 0n), 0x44bc2cf5ad770999n);
});

t.test('the reference implementation gives the published values too', async (t) => {
  t.equal(referenceXxh64(ascii(''), 0n), 0xef46db3751d8e999n);
  t.equal(referenceXxh64(ascii('a'), 0n), 0xd24ec4f1a98c6e5bn);
  t.equal(referenceXxh64(ascii('abc'), 0n), 0x44bc2cf5ad770999n);
});

t.test('xxh64 agrees with the reference for every length 0..300, 1024 and 4096 under several seeds', async (t) => {
  const seed = testSeed();
  t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
  const prng = new Prng(seed);
  const hashSeeds = [0n, 1n, 0x9e3779b97f4a7c15n, MASK, BigInt(prng.nextUint32()) << 32n | BigInt(prng.nextUint32())];
  const lengths = [...Array.from({ length: 301 }, (_, i) => i), 1024, 4096];
  let mismatches = 0;
  for (const length of lengths) {
    // One spare byte in front so odd offsets exercise unaligned reads as well.
    const backing = prng.bytes(length + 1);
    for (const offset of [0, 1]) {
      const data = backing.subarray(offset, offset + length);
      if (data.byteLength !== length) continue;
      for (const hashSeed of hashSeeds) {
        const got = native.xxh64(data, hashSeed);
        const want = referenceXxh64(data, hashSeed);
        if (got !== want) {
          mismatches++;
          t.equal(got, want, `length ${length}, offset ${offset}, seed ${hashSeed}`);
        }
      }
    }
  }
  t.equal(mismatches, 0, `all ${lengths.length} lengths agree`);
});

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

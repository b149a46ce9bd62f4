// spec §5.3: the word codec knows this host's byte order, takes only word sizes 1, 2, 4 and 8,
// and says in its error which input was wrong.
import t from 'tap';
import { endianness } from 'node:os';
import { convert, fromWire, HOST_LITTLE_ENDIAN, toWire } from '../../src/segments/word-codec.js';

t.test('HOST_LITTLE_ENDIAN is the byte order the operating system reports', async (t) => {
  t.equal(HOST_LITTLE_ENDIAN, endianness() === 'LE');
});

t.test('a word size other than 1, 2, 4 or 8 is refused even when the length is a whole number of such words', async (t) => {
  for (const [size, bytes] of [
    [3, 12],
    [16, 32],
    [0, 8],
    [6, 24],
  ] as const) {
    t.throws(
      () => convert(new Uint8Array(bytes), new Uint8Array(bytes), size as 8, true),
      {
        code: 'PDSM_ERR_RANGE',
        message: `word size must be 1, 2, 4 or 8, got ${size}`,
      },
      `word size ${size}`,
    );
  }
});

t.test('errors name the lengths that do not fit', async (t) => {
  t.throws(() => toWire(new Uint8Array(16), new Uint8Array(8), 8), {
    code: 'PDSM_ERR_RANGE',
    message: 'source has 16 bytes but destination 8',
  });
  t.throws(() => fromWire(new Uint8Array(12), new Uint8Array(12), 8), {
    code: 'PDSM_ERR_RANGE',
    message: '12 bytes is not a whole number of 8-byte words',
  });
});

t.test('each word size swaps exactly its own width on a little-endian host', async (t) => {
  const src = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const out = new Uint8Array(8);
  convert(src, out, 2, true);
  t.same([...out], [2, 1, 4, 3, 6, 5, 8, 7], 'W = 2');
  convert(src, out, 4, true);
  t.same([...out], [4, 3, 2, 1, 8, 7, 6, 5], 'W = 4');
  convert(src, out, 8, true);
  t.same([...out], [8, 7, 6, 5, 4, 3, 2, 1], 'W = 8');
  t.same([...src], [1, 2, 3, 4, 5, 6, 7, 8], 'the source is left as it was');
  const empty = new Uint8Array(0);
  t.doesNotThrow(() => convert(empty, new Uint8Array(0), 8, true), 'an empty range converts to nothing');
});

t.test('a view into the middle of a larger buffer converts only its own bytes', async (t) => {
  const whole = Uint8Array.of(0xaa, 1, 2, 3, 4, 0xbb);
  const view = whole.subarray(1, 5);
  convert(view, view, 4, true);
  t.same([...whole], [0xaa, 4, 3, 2, 1, 0xbb], 'the bytes around the view are untouched');
});

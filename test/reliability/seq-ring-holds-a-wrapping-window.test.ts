import t from 'tap';
import { CHUNK, SeqRing } from '../../src/reliability/seq-ring.js';
import { seqAdd } from '../../src/udp/serial.js';

// The sender's retransmit history (seq-ring.ts): a window of consecutive 32-bit numbers that
// wraps at 2^32, spans chunks of CHUNK numbers (taken and dropped as it slides) and keeps a
// stamp per entry.

t.test('empty: nothing held, any first number', async (t) => {
  const r = new SeqRing<string>();
  t.equal(r.size, 0);
  t.equal(r.oldest, undefined);
  t.equal(r.has(0), false, 'an empty ring holds no number, not even its initial first');
  t.equal(r.get(0), undefined);
  t.equal(r.shift(), undefined);
  t.ok(Number.isNaN(r.stamp(0)));
  r.push(12345, 'a');
  t.equal(r.oldest, 12345);
  t.equal(r.get(12345), 'a');
});

t.test('across the wrap and over several chunks: every number held once, in order, none outside', async (t) => {
  const first = 2 ** 32 - 3000; // not on a chunk boundary
  const n = 3 * CHUNK + 100; // four or five chunks, across 2^32
  const r = new SeqRing<number>();
  for (let k = 0; k < n; k++) r.push(seqAdd(first, k), k);
  t.equal(r.size, n);
  t.equal(r.oldest, first);
  let wrong = 0;
  for (let k = 0; k < n; k++) if (r.get(seqAdd(first, k)) !== k || !r.has(seqAdd(first, k))) wrong++;
  t.equal(wrong, 0, 'each number gives back its own value');
  t.equal(r.has(seqAdd(first, -1)), false, 'one before the oldest');
  t.equal(r.has(seqAdd(first, n)), false, 'one past the newest');
  t.equal(r.get(seqAdd(first, n)), undefined);
  t.equal(r.get(seqAdd(first, 2 ** 31)), undefined, 'half the number space away');
  t.equal(r.get(2), 3002, 'number 2, after the wrap, is entry 3002');
});

t.test('shift takes the oldest, across chunk ends, and chunks taken again start clean', async (t) => {
  const r = new SeqRing<string>();
  const first = 2 ** 32 - 10; // 10 numbers before the end of a chunk (2^32 is a multiple of CHUNK)
  for (let k = 0; k < 2 * CHUNK; k++) r.push(seqAdd(first, k), `v${k}`);
  for (let k = 0; k < 2 * CHUNK; k++) r.setStamp(seqAdd(first, k), k);
  t.equal(r.shift(), 'v0');
  t.equal(r.oldest, seqAdd(first, 1));
  t.equal(r.has(first), false, 'gone once shifted');
  t.equal(r.get(first), undefined);
  for (let k = 1; k < 10; k++) t.equal(r.shift(), `v${k}`);
  t.equal(r.oldest, 0, 'the first chunk emptied at 2^32 - 1; the window now starts at 0');
  t.equal(r.get(0), 'v10');
  t.equal(r.stamp(0), 10);
  // Slide a whole window on: the dropped chunks come back for the new numbers.
  for (let k = 2 * CHUNK; k < 5 * CHUNK; k++) {
    r.push(seqAdd(first, k), `v${k}`);
    r.shift();
  }
  let wrong = 0;
  let stamped = 0;
  for (let k = 3 * CHUNK + 10; k < 5 * CHUNK; k++) {
    if (r.get(seqAdd(first, k)) !== `v${k}`) wrong++;
    if (!Number.isNaN(r.stamp(seqAdd(first, k)))) stamped++;
  }
  t.equal(r.size, 2 * CHUNK - 10);
  t.equal(wrong, 0, 'every number after the slide has its own value');
  t.equal(stamped, 0, 'no entry inherits the stamp of the one before it in a reused chunk');
  t.equal(r.has(seqAdd(first, 3 * CHUNK + 9)), false, 'the last one shifted is gone');
  const taken: string[] = [];
  for (let v = r.shift(); v !== undefined; v = r.shift()) taken.push(v);
  t.equal(taken.length, 2 * CHUNK - 10);
  t.equal(taken[0], `v${3 * CHUNK + 10}`);
  t.equal(taken.at(-1), `v${5 * CHUNK - 1}`);
  t.equal(r.size, 0);
  r.push(99, 'fresh');
  t.equal(r.oldest, 99, 'an emptied ring starts again at any number');
  t.equal(r.get(99), 'fresh');
  t.ok(Number.isNaN(r.stamp(99)));
  t.equal(r.get(100), undefined);
});

t.test('emptied mid-chunk, it starts again anywhere', async (t) => {
  const r = new SeqRing<number>();
  r.push(5, 5);
  r.push(6, 6);
  t.equal(r.shift(), 5);
  t.equal(r.shift(), 6);
  r.push(CHUNK - 1, 1);
  r.push(CHUNK, 2); // straight into the next chunk
  t.equal(r.get(CHUNK - 1), 1);
  t.equal(r.get(CHUNK), 2);
  t.equal(r.size, 2);
});

t.test('stamps: NaN until set, kept as the window grows, not set outside it', async (t) => {
  const r = new SeqRing<number>();
  for (let k = 0; k < 10; k++) r.push(100 + k, k);
  t.ok(Number.isNaN(r.stamp(105)));
  r.setStamp(105, 42.5);
  r.setStamp(99, 1);
  r.setStamp(110, 1);
  t.ok(Number.isNaN(r.stamp(99)), 'before the window: ignored');
  t.ok(Number.isNaN(r.stamp(110)), 'past the window: ignored');
  for (let k = 10; k < 3 * CHUNK; k++) r.push(100 + k, k);
  t.equal(r.stamp(105), 42.5, 'kept as the window spans more chunks');
  t.ok(Number.isNaN(r.stamp(106)));
  t.ok(Number.isNaN(r.stamp(110)), '110 was refused a stamp before it was pushed: it has none');
});

t.test('a number that does not follow the newest is refused by name, and nothing changes', async (t) => {
  const r = new SeqRing<string>();
  r.push(2 ** 32 - 1, 'last');
  t.throws(() => r.push(2 ** 32 - 1, 'again'), { name: 'RangeError', message: 'seq 4294967295 does not follow 4294967295' });
  t.throws(() => r.push(1, 'skip'), { message: 'seq 1 does not follow 4294967295' });
  t.equal(r.size, 1);
  r.push(0, 'wrapped');
  t.equal(r.get(0), 'wrapped', '0 follows 2^32 - 1');
});

// spec §9.4: the replay window answers exactly as a plain record of every accepted packet
// number would, for any order of arrival, any jump forward and any window size; and a
// window size that is not a whole number of 32-bit words is refused.
import t from 'tap';
import { ReplayWindow } from '../../src/udp/replay-window.js';
import { Prng } from '../fixtures/prng.js';

/** The rule of §9.4 written the slow way: a Set of what was accepted and the highest. */
class Reference {
  readonly seen = new Set<number>();
  highest = -1;
  constructor(readonly size: number) {}
  check(pn: number): boolean {
    if (pn > this.highest) return true;
    return this.highest - pn < this.size && !this.seen.has(pn);
  }
  accept(pn: number): boolean {
    if (!this.check(pn)) return false;
    this.seen.add(pn);
    if (pn > this.highest) this.highest = pn;
    return true;
  }
}

t.test('random arrivals with jumps of every width get the same answers as the reference', async (t) => {
  const p = new Prng(0x9e4a);
  for (const size of [32, 64, 96, 1024]) {
    const w = new ReplayWindow(size);
    const ref = new Reference(size);
    t.equal(w.size, size);
    const jumps = [1, 2, 31, 32, 33, 63, 64, 65, size - 1, size, size + 1, 3 * size];
    let base = 0;
    let disagreements = 0;
    for (let i = 0; i < 4000; i++) {
      let pn: number;
      const kind = p.int(4);
      if (kind === 0)
        pn = base + (jumps[p.int(jumps.length)] ?? 1); // forward
      else if (kind === 1)
        pn = Math.max(0, base - p.int(size + 8)); // late, around the window's edge
      else if (kind === 2)
        pn = base; // a repeat of the highest
      else pn = base + 1;
      const probe = Math.max(0, ref.highest - p.int(size + 4));
      if (w.check(probe) !== ref.check(probe)) disagreements++;
      if (w.accept(pn) !== ref.accept(pn)) disagreements++;
      if (w.highest !== ref.highest) disagreements++;
      base = ref.highest < 0 ? 0 : ref.highest;
    }
    t.equal(disagreements, 0, `window of ${size}: 4000 arrivals, no disagreement`);
  }
});

t.test('after a jump of exactly one word, the numbers between stay open and the old ones stay recorded', async (t) => {
  const w = new ReplayWindow(128);
  for (let pn = 100; pn <= 131; pn++) t.ok(w.accept(pn));
  t.ok(w.accept(163), 'jump of 32');
  for (let pn = 100; pn <= 131; pn++) t.notOk(w.check(pn), `${pn} still recorded`);
  for (let pn = 132; pn < 163; pn++) t.ok(w.check(pn), `${pn} still open`);
  t.ok(w.check(68), 'a number that was never sent, 95 below the highest, is open');
  t.notOk(w.check(163 - 128), 'one past the window is too old');
});

t.test('the first packet number accepted may be any number, and everything below it in the window is open', async (t) => {
  const w = new ReplayWindow(64);
  t.equal(w.highest, -1, 'nothing accepted yet');
  t.ok(w.check(0));
  t.ok(w.accept(1000));
  t.equal(w.highest, 1000);
  for (let pn = 937; pn < 1000; pn++) t.ok(w.check(pn), `${pn} open`);
  t.notOk(w.check(936), '64 below the highest is outside a 64-wide window');
  t.notOk(w.check(1000), 'the highest itself is recorded');
});

t.test('window sizes that are not a positive whole number of 32-bit words are refused', async (t) => {
  for (const size of [0, 16, 31, 33, 48, 32.5, -32, Number.NaN]) {
    t.throws(() => new ReplayWindow(size), { name: 'RangeError', message: 'window size must be a multiple of 32' }, `size ${size}`);
  }
  t.equal(new ReplayWindow(32).size, 32);
  t.equal(new ReplayWindow().size, 1024, "the default is the spec's 1024");
});

t.test('a jump of 2**32 or more forgets everything, even when it is a few numbers past a multiple of 2**32', async (t) => {
  const w = new ReplayWindow(64);
  for (let pn = 0; pn <= 10; pn++) t.ok(w.accept(pn));
  const far = 10 + 2 ** 32 + 3;
  t.ok(w.accept(far));
  for (let back = 1; back < 64; back++) t.ok(w.check(far - back), `${back} below the new highest is open`);
});

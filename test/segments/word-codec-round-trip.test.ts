// spec §5.3: converting a page to the network-neutral form and back gives the page again,
// for every word size, and bad lengths are refused.
import t from 'tap';
import { convert, fromWire, toWire } from '../../src/segments/word-codec.js';
import { Prng } from '../fixtures/prng.js';

t.test('toWire then fromWire restores the page for W = 1, 2, 4, 8', async (t) => {
  const p = new Prng(0xc0dec);
  for (const w of [1, 2, 4, 8] as const) {
    const page = p.bytes(1024);
    const wire = new Uint8Array(1024);
    const back = new Uint8Array(1024);
    toWire(page, wire, w);
    fromWire(wire, back, w);
    t.same(back, page, `W=${w}`);
    const inPlace = Uint8Array.from(page);
    toWire(inPlace, inPlace, w);
    t.same(inPlace, wire, `W=${w} in place gives the same wire bytes`);
  }
});

t.test('a page that is not a whole number of words, or a destination of another size, is refused', async (t) => {
  t.throws(() => toWire(new Uint8Array(12), new Uint8Array(12), 8), { code: 'PDSM_ERR_RANGE' });
  t.throws(() => toWire(new Uint8Array(16), new Uint8Array(8), 8), { code: 'PDSM_ERR_RANGE' });
  t.throws(() => convert(new Uint8Array(16), new Uint8Array(16), 3 as 8, true), { code: 'PDSM_ERR_RANGE' });
});

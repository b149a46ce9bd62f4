// The tool can fail: a faulty peer (a proxy in front of a real pdsm_master that rewrites
// one kind of answer, or one kind of request on its way in, so the master behaves as one
// that breaks a rule; test/fixtures/faulty-proxy.ts) makes exactly the case that checks
// that rule fail, with expected and seen, and every other case still pass.
// Split in four files (each a few full runs of the tool, ~20 s apiece): this one,
// NACK handling and RO DATA a master must drop or apply.
import t from 'tap';
import { decode, encode, type Message } from '../../src/udp/codec.js';
import { TYPE_NACK, HDR_TYPE } from '../../src/udp/constants.js';
import { onlyFailing, runThrough } from '../fixtures/faulty-master.js';

/** Whether two ranges of a NACK share a number. */
const overlapping = (m: Extract<Message, { type: 'nack' }>): boolean =>
  m.ranges.some((a, i) => m.ranges.some((b, j) => i !== j && ((b.first - a.first) >>> 0 < a.count || (a.first - b.first) >>> 0 < b.count)));

t.test('a master that drops NACKs with overlapping ranges: only nack-overlapping-ranges fails', async (t) => {
  const r = await runThrough(
    t,
    (b) => {
      const d = decode(b);
      return d.ok && d.msg.type === 'nack' && overlapping(d.msg) ? null : b;
    },
    false,
    true,
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['nack-overlapping-ranges']));
  t.match(r.stdout, /^fail §6\.1 +nack-overlapping-ranges: expected DATA \d+ again; seen none within 1000 ms$/m);
});

t.test('a master that takes a NACK with a trailing byte (the proxy trims it): only malformed-dropped fails', async (t) => {
  const r = await runThrough(t, (b) => (b[HDR_TYPE] === TYPE_NACK && (b.length - 26) % 8 === 1 ? b.subarray(0, b.length - 1) : b), false, true);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['malformed-dropped']));
  t.match(r.stdout, /^fail §10\.1 +malformed-dropped: expected a NACK with a trailing byte dropped; seen it drew DATA \d+ again/m);
});

t.test('a master that drops RO DATA shorter than a page (one cut only), with -d: only ro-any-cut-applied fails', async (t) => {
  const r = await runThrough(
    t,
    (b) => {
      const d = decode(b);
      return d.ok && d.msg.type === 'data' && d.msg.flow === 'ro' && d.msg.payload.byteLength < 1024 ? null : b;
    },
    true,
    true,
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['ro-any-cut-applied'], true));
  t.match(r.stdout, /^fail §5\.3 +ro-any-cut-applied: expected RO = the batch within 3000 ms; seen byte \d+ \(page 0\) of RO slice 0/m);
});

t.test('a master that clamps RO DATA beyond its page or segment instead of dropping it, with -d: only ro-data-beyond-page-dropped fails', async (t) => {
  const r = await runThrough(
    t,
    (b) => {
      const d = decode(b);
      if (!d.ok || d.msg.type !== 'data' || d.msg.flow !== 'ro') return b;
      const m = d.msg;
      const len = m.payload.byteLength;
      // The master of these tests: Seg_size 4096, page 1024 (4 pages).
      if (m.offset + len > 1024) return encode({ ...m, offset: 1024 - len });
      if (m.page >= 4) return encode({ ...m, page: 3 });
      return b;
    },
    true,
    true,
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['ro-data-beyond-page-dropped'], true));
  t.match(r.stdout, /^fail §5\.1 +ro-data-beyond-page-dropped: expected an RO NACK of \d+ and \d+ \(the DATA it dropped\)/m);
});

// The tool can fail: a faulty peer (a proxy in front of a real pdsm_master that rewrites
// one kind of answer, or one kind of request on its way in, so the master behaves as one
// that breaks a rule; test/fixtures/faulty-proxy.ts) makes exactly the case that checks
// that rule fail, with expected and seen, and every other case still pass.
// Split in four files (each a few full runs of the tool, ~20 s apiece): this one,
// REJECT answers, the first batch and packet numbers.
import t from 'tap';
import { MASTER_CASES } from '../../src/conformance/cases.js';
import { decode, encode } from '../../src/udp/codec.js';
import { NEED_DIR, onlyFailing, rewriteReject, runThrough, SKIPPED } from '../fixtures/faulty-master.js';

t.test('REJECT version with the old Expected/Offered (the max only): only reject-version-expected-offered fails', async (t) => {
  const r = await runThrough(
    t,
    rewriteReject((m) => (m.reason === 'version' ? { ...m, expected: m.expected & 0xff, offered: m.offered & 0xff } : m)),
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['reject-version-expected-offered']));
  t.match(
    r.stdout,
    /^fail §4\.3 +reject-version-expected-offered: expected REJECT version, Offered 0x0304.*; seen REJECT version \(Expected 0x0002, Offered 0x0004\)$/m,
  );
  const skipped = SKIPPED.length + NEED_DIR.length;
  t.match(r.stdout, new RegExp(`^${MASTER_CASES.length} cases: ${MASTER_CASES.length - 1 - skipped} passed, 1 failed, ${skipped} skipped$`, 'm'));
});

t.test('REJECT duplicate turned into REJECT unavailable: only the two duplicate cases fail', async (t) => {
  const r = await runThrough(
    t,
    rewriteReject((m) => (m.reason === 'duplicate' ? { ...m, reason: 'unavailable' } : m)),
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['duplicate-other-port-new-epoch', 'duplicate-other-port-same-epoch']));
  t.match(r.stdout, /^fail §4\.6 +duplicate-other-port-new-epoch: expected REJECT duplicate, the live session untouched; seen REJECT unavailable/m);
});

t.test('DATA with its first payload byte flipped, with -d: only first-batch-matches-segment fails', async (t) => {
  const flip = (b: Buffer): Buffer => {
    const r = decode(b);
    if (!r.ok || r.msg.type !== 'data') return b;
    const payload = Buffer.from(r.msg.payload);
    payload[0] = payload[0]! ^ 0xff;
    return encode({ ...r.msg, payload });
  };
  const r = await runThrough(t, flip, true);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['first-batch-matches-segment'], true));
  t.match(r.stdout, /^fail §5\.3 +first-batch-matches-segment: expected slice 0 of MO, network-neutral; seen byte 0 is 0xff, the slice has 0x0$/m);
});

t.test('every HEARTBEAT with packet number 7: only packet-numbers-unique fails', async (t) => {
  const renumber = (b: Buffer): Buffer => {
    const r = decode(b);
    if (!r.ok || r.msg.type !== 'heartbeat') return b;
    return encode({ ...r.msg, packetNumber: 7 });
  };
  const r = await runThrough(t, renumber);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['packet-numbers-unique']));
  t.match(r.stdout, /^fail §3 +packet-numbers-unique: expected a new packet number for every datagram; seen HEARTBEAT with packet number 7 again/m);
  t.match(
    r.stdout,
    /^ {2}fail §3 +A node MUST NOT send two datagrams of one session with the same \(src, dst, epoch, packet number\): expected packet-numbers-unique to pass/m,
  );
  t.match(r.stdout, /^\d+ requirements: \d+ passed, 1 failed, \d+ skipped$/m, 'only its requirement fails');
});

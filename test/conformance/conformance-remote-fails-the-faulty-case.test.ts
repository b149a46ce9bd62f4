// The tool can fail against a remote: a faulty peer (test/fixtures/faulty-proxy.ts, in front
// of `pdsm conformance remote`) rewrites one kind of datagram a real pdsm_remote sends, and
// exactly the case that checks it fails, with expected and seen; every other case passes
// (or skips as it does against the plain remote).
// Split in two files (each a few full runs of the tool, ~20 s apiece): this one, the
// COOKIE, HELLO and RESYNC faults.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { REMOTE_CASES } from '../../src/conformance/cases.js';
import { NEED_PSK, onlyFailing, rewrite, runThrough } from '../fixtures/faulty-remote.js';

t.test('HEARTBEATs with one COOKIE byte flipped: only cookie-echoed fails', async (t) => {
  const r = await runThrough(
    t,
    rewrite('heartbeat', (m) => (m.cookie ? { ...m, cookie: Buffer.from(m.cookie).map((x, i) => (i === 0 ? x ^ 0xff : x)) } : m)),
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['cookie-echoed']));
  t.match(r.stdout, /^fail §9\.6 +cookie-echoed: expected COOKIE [0-9a-f]{32} in every HEARTBEAT; seen a HEARTBEAT with [0-9a-f]{32}$/m);
  t.match(
    r.stdout,
    new RegExp(`^${REMOTE_CASES.length} cases: ${REMOTE_CASES.length - 1 - NEED_PSK.length} passed, 1 failed, ${NEED_PSK.length} skipped$`, 'm'),
  );
});

t.test('every HELLO with a fresh NONCE (retransmissions too): only hello-retransmitted fails', async (t) => {
  const r = await runThrough(
    t,
    rewrite('hello', (m) => ({ ...m, nonce: randomBytes(16) })),
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['hello-retransmitted']));
  t.match(r.stdout, /^fail §4\.6 +hello-retransmitted: expected NONCE [0-9a-f]{32} again; seen [0-9a-f]{32}$/m);
});

t.test('RESYNCs narrowed to their first page: only mixed-batch-id-resynced fails', async (t) => {
  const r = await runThrough(
    t,
    rewrite('resync', (m) => (m.full ? m : { ...m, pageCount: 1 })),
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['mixed-batch-id-resynced']));
  t.match(r.stdout, /^fail §7\.3 +mixed-batch-id-resynced: expected RESYNC of pages 0\.\.15; seen RESYNC of 0 only$/m);
});

t.test('RESYNCs of one page moved to the next page: only digest-differing-run-resynced fails', async (t) => {
  const r = await runThrough(
    t,
    rewrite('resync', (m) => (!m.full && m.pageCount === 1 ? { ...m, firstPage: m.firstPage + 1 } : m)),
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['digest-differing-run-resynced']));
  t.match(r.stdout, /^fail §7\.8 +digest-differing-run-resynced: expected RESYNC of 1 page\(s\) from 1, nothing else; seen RESYNC of 1 page\(s\) from 2$/m);
  t.match(
    r.stdout,
    /^ {2}fail §7\.8 +for every run of pages whose hashes differ it MUST send RESYNC for that run: expected digest-differing-run-resynced to pass; seen digest-differing-run-resynced failed \(above\)$/m,
  );
  t.match(r.stdout, /^\d+ requirements: \d+ passed, 1 failed, \d+ skipped$/m, 'only its requirement fails');
});

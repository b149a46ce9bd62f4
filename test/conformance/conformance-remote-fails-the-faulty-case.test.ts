// The tool can fail against a remote: a faulty peer (test/fixtures/faulty-proxy.ts, in front
// of `pdsm conformance remote`) rewrites one kind of datagram a real pdsm_remote sends, and
// exactly the case that checks it fails, with expected and seen; every other case passes
// (or skips as it does against the plain remote).
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { decode, encode, type Message } from '../../src/udp/codec.js';
import { HDR_TYPE, TYPE_HELLO } from '../../src/udp/constants.js';
import { REMOTE_CASES } from '../../src/conformance/cases.js';
import { freeUdpPort } from '../fixtures/cluster.js';
import { runConformance, startRemoteUnderTest } from '../fixtures/conformance.js';
import { grownDigests, startFaultyProxy } from '../fixtures/faulty-proxy.js';

/** A fault that passes every datagram on but those of `type`, which go through `change`. */
const rewrite =
  <K extends Message['type']>(type: K, change: (m: Extract<Message, { type: K }>) => Message) =>
  (b: Buffer): Buffer | null => {
    const r = decode(b);
    if (!r.ok || r.msg.type !== type) return b;
    return encode(change(r.msg as Extract<Message, { type: K }>));
  };

/** Run the tool through a faulty proxy: `fault` on what the remote sends, or (`onTool`) on what the tool sends it. */
async function runThrough(t: Test, fault: (b: Buffer) => Buffer | null, onTool = false, only: string[] = []) {
  const toolPort = await freeUdpPort(4);
  const proxy = await startFaultyProxy(toolPort, fault, { faultOn: onTool ? 'answers' : 'requests' });
  t.teardown(() => proxy.close());
  const r0 = await startRemoteUnderTest({ masterPort: proxy.port });
  t.teardown(() => r0.stop());
  const r = await runConformance(['remote', '--master-port', String(toolPort), '-d', r0.place.dir, ...(only.length > 0 ? ['--only', only.join(',')] : [])]);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  return r;
}

/** The cases an unsealed run skips. */
const NEED_PSK = ['wrong-key-dropped', 'replay-dropped', 'replay-window-far-edge', 'sealed-config-reject-final'];

/** Every case in order: `failing` fail, the PSK-only ones skip (an unsealed run), the rest pass. */
const onlyFailing = (failing: string[]): [string, string][] =>
  REMOTE_CASES.map((c) => [c.id, failing.includes(c.id) ? 'fail' : NEED_PSK.includes(c.id) ? 'skip' : 'pass']);

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

t.test('a remote that drops MO DATA of the odd lengths 8, 40, 136 and 24 bytes (one cut only): only any-cut-applied fails', async (t) => {
  const r = await runThrough(
    t,
    (b) => {
      const d = decode(b);
      return d.ok && d.msg.type === 'data' && d.msg.flow === 'mo' && [8, 40, 136, 24].includes(d.msg.payload.byteLength) ? null : b;
    },
    true,
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['any-cut-applied']));
  t.match(r.stdout, /^fail §5\.3 +any-cut-applied: expected MO = the batch \(\d+ DATA\) within 3000 ms; seen byte \d+ \(page 0\)/m);
});

t.test('RO DIGESTs grown to 80 hashes (674 bytes at a session MTU of 576), --only digest-fits-mtu: it fails', async (t) => {
  // --only: session-mtu-kept would see such a DIGEST too, if one came during it.
  const r = await runThrough(t, grownDigests('ro'), false, ['digest-fits-mtu']);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], [['digest-fits-mtu', 'fail']]);
  t.match(r.stdout, /^fail §6\.3 +digest-fits-mtu: expected DIGESTs of at most 67 hashes and 576 bytes; seen one of 80 hashes, 674 bytes$/m);
});

t.test('sealed, a remote that says its HELLO once more 1.5 s after it (the sealed REJECT in between): only sealed-config-reject-final fails', async (t) => {
  const toolPort = await freeUdpPort(4);
  const proxy = await startFaultyProxy(toolPort, (b) => b, { faultOn: 'requests', repeat: (b) => (b[HDR_TYPE] === TYPE_HELLO ? 1500 : null) });
  t.teardown(() => proxy.close());
  const r0 = await startRemoteUnderTest({ psk: true, masterPort: proxy.port });
  t.teardown(() => r0.stop());
  const r = await runConformance(['remote', '--master-port', String(toolPort), '--psk-file', r0.keyFile!, '--only', 'sealed-config-reject-final']);
  t.ok(proxy.changed > 0, `the proxy repeated ${proxy.changed} HELLO(s)`);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], [['sealed-config-reject-final', 'fail']]);
  t.match(r.stdout, /^fail §4\.3 +sealed-config-reject-final: expected no HELLO after the sealed REJECT seg-size; seen HELLO with Epoch \d+ \d+ ms after it$/m);
});

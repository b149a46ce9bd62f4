// The tool can fail against a remote: a faulty peer (test/fixtures/faulty-proxy.ts, in front
// of `pdsm conformance remote`) rewrites one kind of datagram a real pdsm_remote sends, and
// exactly the case that checks it fails, with expected and seen; every other case passes
// (or skips as it does against the plain remote).
// Split in two files (each a few full runs of the tool, ~20 s apiece): this one, cuts,
// DIGEST sizes and the sealed configuration REJECT.
import t from 'tap';
import { decode } from '../../src/udp/codec.js';
import { HDR_TYPE, TYPE_HELLO } from '../../src/udp/constants.js';
import { freeUdpPort } from '../fixtures/cluster.js';
import { runConformance, startRemoteUnderTest } from '../fixtures/conformance.js';
import { grownDigests, startFaultyProxy } from '../fixtures/faulty-proxy.js';
import { onlyFailing, runThrough } from '../fixtures/faulty-remote.js';

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

// The tool can fail: a faulty peer (a proxy in front of a real pdsm_master that rewrites
// one kind of answer, or one kind of request on its way in, so the master behaves as one
// that breaks a rule; test/fixtures/faulty-proxy.ts) makes exactly the case that checks
// that rule fail, with expected and seen, and every other case still pass.
// Split in four files (each a few full runs of the tool, ~20 s apiece): this one,
// Batch ids, BC repairs, WELCOME salts and DIGEST sizes.
import t from 'tap';
import { MASTER_CASES } from '../../src/conformance/cases.js';
import { decode, encode } from '../../src/udp/codec.js';
import { TYPE_WELCOME, HDR_TYPE } from '../../src/udp/constants.js';
import { runConformance, startMasterUnderTest } from '../fixtures/conformance.js';
import { grownDigests, startFaultyProxy } from '../fixtures/faulty-proxy.js';
import { onlyFailing, runThrough, SEALED_SKIPS } from '../fixtures/faulty-master.js';

t.test('a master that takes an RO DATA of another Batch Id as its batch’s, with -d: only ro-mixed-batch-id-not-applied fails', async (t) => {
  // The proxy gives a DATA that follows a DATA of the flow (seq - 1) the Batch Id of that one.
  let prev: { seq: number; batchId: number } | null = null;
  const r = await runThrough(
    t,
    (b) => {
      const d = decode(b);
      if (!d.ok || (d.msg.type !== 'data' && d.msg.type !== 'commit') || d.msg.flow !== 'ro') return b;
      const m = d.msg;
      const before = prev;
      prev = m.type === 'data' ? { seq: m.seq, batchId: m.batchId } : null;
      if (m.type !== 'data' || before === null || before.seq !== (m.seq - 1) >>> 0 || before.batchId === m.batchId) return b;
      prev = { seq: m.seq, batchId: before.batchId };
      return encode({ ...m, batchId: before.batchId });
    },
    true,
    true,
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], onlyFailing(['ro-mixed-batch-id-not-applied'], true));
  t.match(r.stdout, /^fail §7\.3 +ro-mixed-batch-id-not-applied: expected RO slice untouched by the batch with two Batch Ids; seen it holds that batch$/m);
});

t.test('with -b, BC repairs grown to a whole page (1,064 bytes at a session MTU of 576): only bc-repair-fits-session-mtu fails', async (t) => {
  const m = await startMasterUnderTest({ args: ['-b', '16384'] });
  t.teardown(() => m.stop());
  // A BC DATA whose Seq came before is a repair: the proxy sends it as a DATA of the whole page.
  const seen = new Set<number>();
  const proxy = await startFaultyProxy(m.place.port, (b) => {
    const d = decode(b);
    if (!d.ok || d.msg.type !== 'data' || d.msg.flow !== 'bc') return b;
    if (!seen.has(d.msg.seq)) {
      seen.add(d.msg.seq);
      return b;
    }
    return encode({ ...d.msg, offset: 0, payload: Buffer.alloc(1024, 0x33) });
  });
  t.teardown(() => proxy.close());
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), '--only', 'session-mtu-kept,bc-repair-fits-session-mtu']);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same(
    [...r.verdicts],
    [
      ['session-mtu-kept', 'pass'],
      ['bc-repair-fits-session-mtu', 'fail'],
    ],
  );
  t.match(r.stdout, /^fail §8\.1 +bc-repair-fits-session-mtu: expected BC repairs of at most 576 bytes; seen a BC DATA of 1064 bytes$/m);
});

t.test('sealed, every WELCOME after the first to a client port sent as that first one, byte for byte: only welcome-new-salt fails', async (t) => {
  const m = await startMasterUnderTest({ psk: true });
  t.teardown(() => m.stop());
  // A master that keeps its sealed WELCOME and resends it (same Salt) to a retransmitted HELLO.
  const first = new Map<string, Buffer>();
  const proxy = await startFaultyProxy(m.place.port, (b, peer) => {
    if (b[HDR_TYPE] !== TYPE_WELCOME) return b;
    const kept = first.get(peer);
    if (kept === undefined) first.set(peer, b);
    return kept ?? b;
  });
  t.teardown(() => proxy.close());
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), '--psk-file', m.keyFile!]);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same(
    [...r.verdicts].filter(([, v]) => v !== 'pass'),
    MASTER_CASES.flatMap((c) => (c.id === 'welcome-new-salt' ? [[c.id, 'fail']] : SEALED_SKIPS.includes(c.id) ? [[c.id, 'skip']] : [])),
  );
  t.match(r.stdout, /^fail §9\.3 +welcome-new-salt: expected two Salts; seen Salt [0-9a-f]{32} twice$/m);
});

t.test('MO DIGESTs grown to 80 hashes (674 bytes at a session MTU of 576), --only digest-fits-mtu: it fails', async (t) => {
  const m = await startMasterUnderTest();
  t.teardown(() => m.stop());
  const proxy = await startFaultyProxy(m.place.port, grownDigests('mo'));
  t.teardown(() => proxy.close());
  // --only: session-mtu-kept would see such a DIGEST too, if one came during it.
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), '--only', 'digest-fits-mtu']);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], [['digest-fits-mtu', 'fail']]);
  t.match(r.stdout, /^fail §6\.3 +digest-fits-mtu: expected DIGESTs of at most 67 hashes and 576 bytes; seen one of 80 hashes, 674 bytes$/m);
});

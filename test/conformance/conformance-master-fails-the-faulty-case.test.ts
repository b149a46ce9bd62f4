// The tool can fail: a faulty peer (a proxy in front of a real pdsm_master that rewrites
// one kind of answer, or one kind of request on its way in, so the master behaves as one
// that breaks a rule; test/fixtures/faulty-proxy.ts) makes exactly the case that checks
// that rule fail, with expected and seen, and every other case still pass.
import t, { type Test } from 'tap';
import { decode, encode, type Message } from '../../src/udp/codec.js';
import { readFileSync } from 'node:fs';
import { HDR_PACKET_NUMBER, HDR_TYPE, TYPE_NACK, TYPE_WELCOME } from '../../src/udp/constants.js';
import { deriveSessionKeys, isHandshakeType, isSealed, open, openHandshake, seal, type SessionKeys } from '../../src/udp/seal.js';
import { MASTER_CASES } from '../../src/conformance/cases.js';
import { runConformance, startMasterUnderTest } from '../fixtures/conformance.js';
import { grownDigests, startFaultyProxy } from '../fixtures/faulty-proxy.js';

/** A fault that passes every datagram on but REJECTs, which go through `change` (null: drop). */
const rewriteReject =
  (change: (m: Extract<Message, { type: 'reject' }>) => Message | null) =>
  (b: Buffer): Buffer | null => {
    const r = decode(b);
    if (!r.ok || r.msg.type !== 'reject') return b;
    const out = change(r.msg);
    return out === r.msg ? b : out === null ? null : encode(out);
  };

/** Run the tool through a faulty proxy: `fault` on the master's answers, or (`onRequests`) on what the tool sends it. */
async function runThrough(t: Test, fault: (b: Buffer) => Buffer | null, withDir = false, onRequests = false) {
  const m = await startMasterUnderTest();
  t.teardown(() => m.stop());
  const proxy = await startFaultyProxy(m.place.port, fault, { faultOn: onRequests ? 'requests' : 'answers' });
  t.teardown(() => proxy.close());
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), ...(withDir ? ['-d', m.place.dir] : [])]);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  return r;
}

/** Cases an unsealed run against a master without BC skips; and those that need -d. */
const SKIPPED = ['bc-repair-fits-session-mtu', 'wrong-key-dropped', 'replay-dropped', 'older-hello-dropped', 'welcome-new-salt'];
const NEED_DIR = ['first-batch-matches-segment', 'ro-full-batch-applied', 'ro-mixed-batch-id-not-applied'];
/** Cases a sealed run without -d and without BC skips. */
const SEALED_SKIPS = ['check-order-client-id-before-sizes', 'malformed-hello-no-answer', 'not-joined-answered', 'bc-repair-fits-session-mtu', ...NEED_DIR];

/** Every case in order: `failing` fail, the rest pass (or skip: SKIPPED, and NEED_DIR unless -d is given). */
const onlyFailing = (failing: string[], withDir = false): [string, string][] =>
  MASTER_CASES.map((c) => [c.id, failing.includes(c.id) ? 'fail' : SKIPPED.includes(c.id) || (NEED_DIR.includes(c.id) && !withDir) ? 'skip' : 'pass']);

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

t.test('RO DATA with one payload byte flipped on its way in, with -d, --only ro-full-batch-applied: it fails', async (t) => {
  const m = await startMasterUnderTest();
  t.teardown(() => m.stop());
  // As a master that writes one byte of each page wrong (--only: the DIGEST cases would see it too).
  const proxy = await startFaultyProxy(
    m.place.port,
    (b) => {
      const d = decode(b);
      if (!d.ok || d.msg.type !== 'data' || d.msg.flow !== 'ro') return b;
      const payload = Buffer.from(d.msg.payload);
      payload[0] = payload[0]! ^ 0xff;
      return encode({ ...d.msg, payload });
    },
    { faultOn: 'requests' },
  );
  t.teardown(() => proxy.close());
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), '-d', m.place.dir, '--only', 'ro-full-batch-applied']);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], [['ro-full-batch-applied', 'fail']]);
  t.match(
    r.stdout,
    /^fail §7\.3 +ro-full-batch-applied: expected RO = the batch within 3000 ms; seen byte 0 \(page 0\) of RO slice 0 is 0x[0-9a-f]+, not 0x[0-9a-f]+$/m,
  );
});

/**
 * A man in the middle that holds the PSK (sealed runs): it learns each client port's session
 * keys from the HELLO and WELCOME it relays (§9.2), so `fault` can open and seal session
 * datagrams as the remote would, making a master that takes what it must drop.
 */
function keyedFault(psk: Buffer, fault: (b: Buffer, keys: SessionKeys) => Buffer) {
  const hellos = new Map<string, { nonce: Uint8Array; epoch: number; src: number }>();
  const keys = new Map<string, SessionKeys>();
  const learn = (b: Buffer, peer: string): void => {
    if (!isSealed(b) || !isHandshakeType(b[HDR_TYPE] ?? 0)) return;
    const o = openHandshake(psk, b);
    const d = o.ok ? decode(o.datagram) : null;
    if (d?.ok !== true) return;
    const m = d.msg;
    if (m.type === 'hello' && m.nonce) hellos.set(peer, { nonce: m.nonce, epoch: m.epoch, src: m.src });
    const h = hellos.get(peer);
    if (m.type === 'welcome' && m.nonce && h !== undefined && h.epoch === m.remoteEpoch) {
      const secrets = { clientId: h.src, helloNonce: h.nonce, welcomeNonce: m.nonce, remoteEpoch: h.epoch, masterEpoch: m.epoch };
      keys.set(peer, deriveSessionKeys(psk, secrets, 'remote'));
    }
  };
  return {
    observe: learn,
    fault: (b: Buffer, peer: string): Buffer => {
      learn(b, peer);
      const k = keys.get(peer);
      return k === undefined || isHandshakeType(b[HDR_TYPE] ?? 0) ? b : fault(b, k);
    },
  };
}

async function runKeyed(t: Test, fault: (b: Buffer, keys: SessionKeys) => Buffer, only: string) {
  const m = await startMasterUnderTest({ psk: true });
  t.teardown(() => m.stop());
  const k = keyedFault(readFileSync(m.keyFile!), fault);
  const proxy = await startFaultyProxy(m.place.port, k.fault, { faultOn: 'requests', observe: k.observe });
  t.teardown(() => proxy.close());
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), '--psk-file', m.keyFile!, '--only', only]);
  t.ok(proxy.changed > 0, `the proxy changed ${proxy.changed} datagram(s)`);
  return r;
}

t.test('sealed, unsealed session datagrams sealed on their way in (a master that takes them), --only mixed-seal-dropped: it fails', async (t) => {
  const r = await runKeyed(t, (b, k) => (isSealed(b) ? b : seal(k.send, b)), 'mixed-seal-dropped');
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], [['mixed-seal-dropped', 'fail']]);
  t.match(r.stdout, /^fail §9\.5 +mixed-seal-dropped: expected a NACK with no seal \(a master with a PSK\) dropped; seen it drew DATA \d+ again/m);
});

t.test('sealed, a session datagram seen before renumbered and sealed again (a master without a replay window), --only replay-dropped: it fails', async (t) => {
  const seen = new Set<string>();
  let next = 1_000_000;
  const r = await runKeyed(
    t,
    (b, k) => {
      const hex = b.toString('hex');
      if (!seen.has(hex)) {
        seen.add(hex);
        return b;
      }
      const o = open(k.send, b);
      if (!o.ok) return b;
      const plain = Buffer.from(o.datagram);
      plain.writeUInt32BE(next++, HDR_PACKET_NUMBER + 4);
      return seal(k.send, plain);
    },
    'replay-dropped',
  );
  t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts], [['replay-dropped', 'fail']]);
  t.match(r.stdout, /^fail §9\.4 +replay-dropped: expected the NACK sent again byte for byte dropped; seen it drew DATA \d+ again$/m);
});

t.test(
  'a NACK from a port with no session sent on from the port of its Src’s session (a master that ignores the port): only session-address-checked fails',
  async (t) => {
    const m = await startMasterUnderTest();
    t.teardown(() => m.stop());
    // Per client port, the Src of its last HELLO: a port that said none is the stranger.
    const helloFrom = new Map<string, number>();
    const proxy = await startFaultyProxy(
      m.place.port,
      (b, peer) => {
        const d = decode(b);
        if (d.ok && d.msg.type === 'hello') helloFrom.set(peer, d.msg.src);
        return b;
      },
      {
        faultOn: 'requests',
        via: (b, peer) => {
          const d = decode(b);
          if (!d.ok || d.msg.type !== 'nack' || helloFrom.has(peer)) return undefined;
          const src = d.msg.src;
          return [...helloFrom].reverse().find(([, s]) => s === src)?.[0];
        },
      },
    );
    t.teardown(() => proxy.close());
    const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(proxy.port), '--only', 'session-address-checked']);
    t.ok(proxy.changed > 0, `the proxy moved ${proxy.changed} datagram(s)`);
    t.equal(r.status, 1, `exit 1\n${r.stdout}${r.stderr}`);
    t.same([...r.verdicts], [['session-address-checked', 'fail']]);
    t.match(r.stdout, /^fail §9\.3 +session-address-checked: expected a NACK with another source port \(\d+\) dropped; seen it drew DATA \d+ again/m);
  },
);

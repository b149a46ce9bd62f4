// The tool can fail: a faulty peer (a proxy in front of a real pdsm_master that rewrites
// one kind of answer, or one kind of request on its way in, so the master behaves as one
// that breaks a rule; test/fixtures/faulty-proxy.ts) makes exactly the case that checks
// that rule fail, with expected and seen, and every other case still pass.
// Split in four files (each a few full runs of the tool, ~20 s apiece): this one,
// RO applied, seals, the replay window and the session address.
import t from 'tap';
import { decode, encode } from '../../src/udp/codec.js';
import { HDR_PACKET_NUMBER } from '../../src/udp/constants.js';
import { isSealed, open, seal } from '../../src/udp/seal.js';
import { runConformance, startMasterUnderTest } from '../fixtures/conformance.js';
import { startFaultyProxy } from '../fixtures/faulty-proxy.js';
import { runKeyed } from '../fixtures/faulty-master.js';

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

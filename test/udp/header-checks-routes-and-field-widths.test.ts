// spec §3: the common header is read field by field at its offsets, a message may travel only
// on the routes of §3.4, and an encoder refuses a value wider than its field.
import t from 'tap';
import { controlRouteOk, DECODE_REJECT_REASONS, envelopeOf, flowName, flowRouteOk, isRemoteId, readHeader, writeHeader, Writer } from '../../src/udp/header.js';
import { FLOW_BC, FLOW_MO, FLOW_NONE, FLOW_RO, HEADER_SIZE, NODE_ALL, NODE_MASTER, TYPE_HEARTBEAT } from '../../src/udp/constants.js';

const M = NODE_MASTER;

t.test('the reject reasons are the thirteen of spec §10.2, in order', async (t) => {
  t.same([...DECODE_REJECT_REASONS], ['short', 'magic', 'version', 'type', 'sealed', 'flags', 'flow', 'role', 'length', 'count', 'enum', 'range', 'option']);
});

t.test('readHeader gives every field as written and checks the fixed ones', async (t) => {
  const w = new Writer(HEADER_SIZE);
  writeHeader(w, TYPE_HEARTBEAT, 0x03, FLOW_RO, { src: 0x0102, dst: M, epoch: 0xdeadbeef, packetNumber: 0x1234_5678_9abc });
  t.same(
    [...w.buf],
    [0x50, 0x44, 0x53, 0x4d, 2, TYPE_HEARTBEAT, 0x03, FLOW_RO, 0x01, 0x02, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc],
    'big-endian, at the offsets of spec §3',
  );
  const r = readHeader(w.buf);
  if (!r.ok) throw new Error(r.reason);
  t.same(r.header, { version: 2, type: TYPE_HEARTBEAT, flags: 0x03, flow: FLOW_RO, src: 0x0102, dst: M, epoch: 0xdeadbeef, packetNumber: 0x1234_5678_9abc });
  t.same(envelopeOf(r.header), { src: 0x0102, dst: M, epoch: 0xdeadbeef, packetNumber: 0x1234_5678_9abc }, 'the envelope is those four fields only');

  t.same(readHeader(w.buf.subarray(0, HEADER_SIZE - 1)), { ok: false, reason: 'short' }, 'one byte short of a header');
  const bad = (at: number, value: number): string => {
    const b = Buffer.from(w.buf);
    b[at] = value;
    const x = readHeader(b);
    return x.ok ? 'accepted' : x.reason;
  };
  t.equal(bad(3, 0x4e), 'magic', 'last byte of the magic');
  t.equal(bad(4, 0), 'version', 'version 0');
  t.equal(bad(4, 1), 'version', 'version 1 is for HELLO, WELCOME and REJECT only (spec §10.4)');
  t.equal(bad(4, 3), 'version', 'version 3');
  t.equal(bad(6, 0x83), 'sealed');
  t.equal(bad(17, 1), 'range', 'the low byte of the 16 zero bits of the packet number');
  t.equal(bad(16, 0x80), 'range', 'the high byte too');
  const zero = Buffer.from(w.buf);
  zero.writeUInt32BE(0, 12);
  t.same(readHeader(zero), { ok: false, reason: 'range' }, 'epoch 0');
  const one = Buffer.from(w.buf);
  one.writeUInt32BE(1, 12);
  t.ok(readHeader(one).ok, 'epoch 1 is a real epoch');
});

t.test('flowName and isRemoteId know exactly the codes and ids of the spec', async (t) => {
  t.same([FLOW_NONE, FLOW_MO, FLOW_RO, FLOW_BC, 4, 255].map(flowName), [null, 'mo', 'ro', 'bc', null, null]);
  t.ok(isRemoteId(0));
  t.ok(isRemoteId(16383));
  t.notOk(isRemoteId(16384));
  t.notOk(isRemoteId(M));
});

/** Routes to try: master to a remote, remote to master, master to ALL, and wrong ones. */
const ROUTES: [number, number][] = [
  [M, 5],
  [5, M],
  [M, NODE_ALL],
  [5, 6],
  [M, M],
  [16384, M],
  [M, 16384],
  [16383, M],
  [M, 16383],
  [NODE_ALL, M],
];

t.test("flow messages travel only from the flow's sender to its receiver, and back for NACK and RESYNC", async (t) => {
  const m2r = (s: number, d: number): boolean => s === M && d < 16384;
  const r2m = (s: number, d: number): boolean => s < 16384 && d === M;
  const expected: Record<number, [(s: number, d: number) => boolean, (s: number, d: number) => boolean]> = {
    [FLOW_MO]: [m2r, r2m],
    [FLOW_RO]: [r2m, m2r],
    [FLOW_BC]: [(s, d) => m2r(s, d) || (s === M && d === NODE_ALL), r2m],
  };
  for (const flow of [FLOW_MO, FLOW_RO, FLOW_BC]) {
    for (const [src, dst] of ROUTES) {
      t.equal(flowRouteOk(flow, src, dst, true), expected[flow]![0](src, dst), `flow ${flow} data ${src}->${dst}`);
      t.equal(flowRouteOk(flow, src, dst, false), expected[flow]![1](src, dst), `flow ${flow} feedback ${src}->${dst}`);
    }
  }
  for (const flow of [FLOW_NONE, 4]) {
    for (const [src, dst] of ROUTES) t.notOk(flowRouteOk(flow, src, dst, true) || flowRouteOk(flow, src, dst, false), `no route on flow ${flow}`);
  }
});

t.test('control messages go between the master and one remote, in the directions their type allows', async (t) => {
  for (const [src, dst] of ROUTES) {
    const m2r = src === M && dst < 16384;
    const r2m = src < 16384 && dst === M;
    t.equal(controlRouteOk(src, dst, true, true), m2r || r2m, `either way ${src}->${dst}`);
    t.equal(controlRouteOk(src, dst, true, false), m2r, `master only ${src}->${dst}`);
    t.equal(controlRouteOk(src, dst, false, true), r2m, `remote only ${src}->${dst}`);
    t.notOk(controlRouteOk(src, dst, false, false), `nobody ${src}->${dst}`);
  }
});

t.test('the writer refuses a value that does not fit its field and names the field', async (t) => {
  const w = new Writer(16);
  w.u8(0, 255, 'a');
  w.u16(1, 0xffff, 'b');
  w.u32(3, 0xffff_ffff, 'c');
  w.u64(7, 0xffff_ffff_ffff_ffffn, 'd');
  t.same([...w.buf.subarray(0, 15)], Array(15).fill(255), 'the largest value of each width is written in full');
  w.u64(7, 0n, 'd');
  t.same([...w.buf.subarray(7, 15)], Array(8).fill(0), 'zero fits u64');
  t.throws(() => w.u8(0, 256, 'flags'), { name: 'RangeError', message: 'flags must be an integer 0..255, got 256' });
  t.throws(() => w.u16(0, 0x1_0000, 'src'), { message: 'src must be an integer 0..65535, got 65536' });
  t.throws(() => w.u32(0, 0x1_0000_0000, 'seq'), { message: 'seq must be an integer 0..4294967295, got 4294967296' });
  t.throws(() => w.u8(0, -1, 'x'), RangeError, 'negative');
  t.throws(() => w.u16(0, 1.5, 'x'), RangeError, 'fraction');
  t.throws(() => w.u32(0, Number.NaN, 'x'), RangeError, 'NaN');
  t.throws(() => w.u64(0, -1n, 'hash'), { message: 'hash does not fit in u64: -1' });
  t.throws(() => w.u64(0, 2n ** 64n, 'hash'), RangeError);
  const b = new Writer(4);
  b.bytes(1, Uint8Array.of(7, 8));
  t.same([...b.buf], [0, 7, 8, 0], 'bytes() copies at its offset');
});

t.test('packet numbers use the low 48 bits of their field and no more', async (t) => {
  const env = { src: 1, dst: M, epoch: 1 };
  for (const pn of [0, 1, 0xffff_ffff, 0x1_0000_0000, 2 ** 48 - 1]) {
    const w = new Writer(HEADER_SIZE);
    writeHeader(w, TYPE_HEARTBEAT, 0, 0, { ...env, packetNumber: pn });
    const r = readHeader(w.buf);
    t.equal(r.ok && r.header.packetNumber, pn, `packet number ${pn}`);
  }
  t.throws(() => writeHeader(new Writer(HEADER_SIZE), TYPE_HEARTBEAT, 0, 0, { ...env, packetNumber: 2 ** 48 }), {
    message: /packetNumber must be an integer 0\.\.281474976710655/,
  });
});

// spec §10.2: each kind of malformed datagram is rejected with its documented reason.
import t from 'tap';
import { decode, encode, type Message } from '../../src/udp/codec.js';
import { FLAG_SEALED, HDR_FLAGS, HDR_FLOW, HDR_SRC, HDR_TYPE, HDR_VERSION, NACK_RANGE_COUNT } from '../../src/udp/constants.js';

const hello: Message = {
  type: 'hello',
  src: 3,
  dst: 0xffff,
  epoch: 7,
  packetNumber: 0,
  versionMin: 1,
  versionMax: 1,
  mtu: 1200,
  pageSize: 1024,
  segSize: 4096,
  bcSize: 0,
  roNextSeq: 0,
  wordSize: 8,
  hostname: 'h',
  options: [],
};
const nack: Message = { type: 'nack', src: 3, dst: 0xffff, epoch: 7, packetNumber: 0, flow: 'mo', ranges: [{ first: 1, count: 1 }] };

function reasonOf(bytes: Uint8Array): string {
  const r = decode(bytes);
  return r.ok ? 'accepted' : r.reason;
}

function edit(msg: Message, f: (b: Buffer) => Buffer | void): Buffer {
  const b = Buffer.from(encode(msg));
  return f(b) ?? b;
}

t.test('malformed datagrams are rejected with the reason the spec lists', async (t) => {
  t.equal(reasonOf(new Uint8Array(10)), 'short');
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[0] = 0x51;
      }),
    ),
    'magic',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[HDR_VERSION] = 2;
      }),
    ),
    'version',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[HDR_TYPE] = 0x42;
      }),
    ),
    'type',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[HDR_FLAGS] = FLAG_SEALED;
      }),
    ),
    'sealed',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[HDR_FLAGS] = 0x01;
      }),
    ),
    'flags',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[HDR_FLOW] = 1;
      }),
    ),
    'flow',
  );
  t.equal(
    reasonOf(
      edit(nack, (b) => {
        b[HDR_FLOW] = 4;
      }),
    ),
    'flow',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b.writeUInt16BE(0xffff, HDR_SRC);
      }),
    ),
    'role',
    'HELLO from the master',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b.writeUInt16BE(16384, HDR_SRC);
      }),
    ),
    'role',
    'client id beyond 16383',
  );
  t.equal(reasonOf(edit(nack, (b) => Buffer.concat([b, Buffer.alloc(1)]))), 'length', 'trailing byte');
  t.equal(
    reasonOf(
      edit(nack, (b) => {
        b.writeUInt16BE(0, NACK_RANGE_COUNT);
      }),
    ),
    'count',
  );
  t.equal(
    reasonOf(
      edit(nack, (b) => {
        b.writeUInt16BE(65, NACK_RANGE_COUNT);
      }),
    ),
    'count',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[44] = 3;
      }),
    ),
    'enum',
    'word size 3',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b.writeUInt32BE(1000, 28);
      }),
    ),
    'range',
    'page size not a power of two',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b.writeUInt32BE(0, 12);
      }),
    ),
    'range',
    'epoch 0',
  );
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[16] = 1;
      }),
    ),
    'range',
    'packet number beyond 48 bits',
  );
  t.equal(reasonOf(edit(hello, (b) => Buffer.concat([b, Buffer.from([0x01])]))), 'option', 'half an option');
  t.equal(
    reasonOf(
      edit(hello, (b) => {
        b[b.length - 2] = 0x0a;
      }),
    ),
    'option',
    'hostname with a control character',
  );
});

t.test('unknown options are skipped but kept, known ones out of order are not', async (t) => {
  const withUnknown = Buffer.concat([encode(hello), Buffer.from([0x20, 0x02, 0xaa, 0xbb])]);
  const r = decode(withUnknown);
  t.ok(r.ok && r.msg.type === 'hello' && r.msg.options.length === 1 && r.msg.hostname === 'h', 'decodes with the unknown option kept');
  t.ok(r.ok && encode(r.msg).equals(withUnknown), 'the unknown option re-encodes in place');
  const misordered = Buffer.concat([encode({ ...hello, hostname: null }), Buffer.from([0x20, 0x00, 0x01, 0x01, 0x68])]);
  t.equal(reasonOf(misordered), 'option');
});

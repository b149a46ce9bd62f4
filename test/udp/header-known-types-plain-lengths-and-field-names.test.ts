// spec §3.1, §3.4, §4-§6, §9.3: which type codes are assigned, which plain lengths each type
// can have (the cheap check a receiver makes before the AEAD), the header Version check for
// unknown types, and the name an encoder gives a field whose value does not fit, so the error
// says which input was bad. Found by mutation testing (issue 18): plainLengthPossible ran only
// in transport tests, and no test read most of the field names.
import t from 'tap';
import {
  COMMIT_SIZE,
  DATA_PAYLOAD,
  DIGEST_HASHES,
  DIGEST_HASH_SIZE,
  FLOW_BC,
  GOODBYE_SIZE,
  HEADER_SIZE,
  HEARTBEAT_COOKIE_SIZE,
  HEARTBEAT_FLOWS,
  HEARTBEAT_FLOW_SIZE,
  HELLO_OPTIONS,
  MAX_NACK_RANGES,
  NACK_RANGES,
  NACK_RANGE_SIZE,
  NODE_MASTER,
  REJECT_OPTIONS,
  RESYNC_SIZE,
  TYPE_COMMIT,
  TYPE_DATA,
  TYPE_DIGEST,
  TYPE_GOODBYE,
  TYPE_HEARTBEAT,
  TYPE_HELLO,
  TYPE_NACK,
  TYPE_REJECT,
  TYPE_RESYNC,
  TYPE_WELCOME,
  WELCOME_OPTIONS,
} from '../../src/udp/constants.js';
import { Writer, flowRouteOk, isKnownType, plainLengthPossible, readHeader, writeHeader } from '../../src/udp/header.js';
import { encodeUnchecked, type Message } from '../../src/udp/codec.js';

t.test('the assigned types are exactly those of spec §3.1', async (t) => {
  const known = Array.from({ length: 256 }, (_, i) => i).filter(isKnownType);
  t.same(known, [TYPE_HELLO, TYPE_WELCOME, TYPE_REJECT, TYPE_GOODBYE, TYPE_HEARTBEAT, TYPE_DATA, TYPE_COMMIT, TYPE_NACK, TYPE_DIGEST, TYPE_RESYNC]);
  t.same(known, [0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12, 0x13, 0x14]);
});

t.test('a header Version other than 1 or 2 is refused as version even for an unknown type', async (t) => {
  const b = Buffer.alloc(HEADER_SIZE);
  b.writeUInt32BE(0x5044534d, 0);
  b[4] = 3;
  b[5] = 0x20; // not an assigned type
  b.writeUInt32BE(1, 12); // epoch 1
  t.same(readHeader(b), { ok: false, reason: 'version' });
  b[4] = 2;
  t.equal(readHeader(b).ok, true, 'Version 2 with an unknown type: the header is fine (the decoder says type)');
});

t.test('BC DATA goes from the master to one remote or to all, never from a remote', async (t) => {
  t.equal(flowRouteOk(FLOW_BC, NODE_MASTER, 0, true), true);
  t.equal(flowRouteOk(FLOW_BC, NODE_MASTER, 0xfffe, true), true);
  t.equal(flowRouteOk(FLOW_BC, 0, NODE_MASTER, true), false, 'a remote sending BC DATA');
  t.equal(flowRouteOk(FLOW_BC, 0, 1, true), false, 'remote to remote');
  t.equal(flowRouteOk(FLOW_BC, 0, NODE_MASTER, false), true, 'a remote NACKs BC to the master');
  t.equal(flowRouteOk(FLOW_BC, NODE_MASTER, 0, false), false, 'the master does not NACK its own BC');
  t.equal(flowRouteOk(FLOW_BC, NODE_MASTER, 0xfffe, false), false, 'nor NACK to all');
});

t.test('plainLengthPossible: each type’s bounds, one byte either side', async (t) => {
  const cases: [string, number, number[], number[]][] = [
    ['HELLO', TYPE_HELLO, [HELLO_OPTIONS, HELLO_OPTIONS + 300], [HELLO_OPTIONS - 1]],
    ['WELCOME', TYPE_WELCOME, [WELCOME_OPTIONS, WELCOME_OPTIONS + 300], [WELCOME_OPTIONS - 1]],
    ['REJECT', TYPE_REJECT, [REJECT_OPTIONS, REJECT_OPTIONS + 300], [REJECT_OPTIONS - 1]],
    ['GOODBYE', TYPE_GOODBYE, [GOODBYE_SIZE], [GOODBYE_SIZE - 1, GOODBYE_SIZE + 1]],
    [
      'HEARTBEAT',
      TYPE_HEARTBEAT,
      [HEARTBEAT_FLOWS, HEARTBEAT_FLOWS + 2 * HEARTBEAT_FLOW_SIZE + HEARTBEAT_COOKIE_SIZE],
      [HEARTBEAT_FLOWS - 1, HEARTBEAT_FLOWS + 2 * HEARTBEAT_FLOW_SIZE + HEARTBEAT_COOKIE_SIZE + 1],
    ],
    ['DATA', TYPE_DATA, [DATA_PAYLOAD + 1, DATA_PAYLOAD + 8000], [DATA_PAYLOAD]],
    ['COMMIT', TYPE_COMMIT, [COMMIT_SIZE], [COMMIT_SIZE - 1, COMMIT_SIZE + 1]],
    [
      'NACK',
      TYPE_NACK,
      [NACK_RANGES + NACK_RANGE_SIZE, NACK_RANGES + MAX_NACK_RANGES * NACK_RANGE_SIZE],
      [NACK_RANGES, NACK_RANGES + NACK_RANGE_SIZE - 1, NACK_RANGES + NACK_RANGE_SIZE + 1, NACK_RANGES + (MAX_NACK_RANGES + 1) * NACK_RANGE_SIZE],
    ],
    [
      'DIGEST',
      TYPE_DIGEST,
      [DIGEST_HASHES + DIGEST_HASH_SIZE, DIGEST_HASHES + 145 * DIGEST_HASH_SIZE],
      [DIGEST_HASHES, DIGEST_HASHES + DIGEST_HASH_SIZE - 1, DIGEST_HASHES + DIGEST_HASH_SIZE + 1],
    ],
    ['RESYNC', TYPE_RESYNC, [RESYNC_SIZE], [RESYNC_SIZE - 1, RESYNC_SIZE + 1]],
    ['unassigned 0x20', 0x20, [], [HEADER_SIZE, 100, 1200]],
  ];
  for (const [name, type, yes, no] of cases) {
    for (const n of yes) t.equal(plainLengthPossible(type, n), true, `${name}: ${n} bytes possible`);
    for (const n of no) t.equal(plainLengthPossible(type, n), false, `${name}: ${n} bytes impossible`);
  }
});

t.test('plainLengthPossible agrees with real encodings at the bounds', async (t) => {
  const env = { src: 0, dst: NODE_MASTER, epoch: 7, packetNumber: 1 };
  const beat = (flows: number, cookie: boolean): Message => ({
    type: 'heartbeat',
    ...env,
    timestamp: 1,
    echo: null,
    wantBcUnicast: false,
    flows: [
      { flow: 'ro' as const, highestSeq: 1 },
      { flow: 'mo' as const, highestSeq: 2 },
    ].slice(0, flows),
    ...(cookie ? { cookie: new Uint8Array(HEARTBEAT_COOKIE_SIZE) } : {}),
  });
  const nack = (n: number): Message => ({ type: 'nack', ...env, flow: 'mo', ranges: Array.from({ length: n }, (_, i) => ({ first: 10 * i + 1, count: 1 })) });
  for (const [name, msg, type] of [
    ['HEARTBEAT, no flow', beat(0, false), TYPE_HEARTBEAT],
    ['HEARTBEAT, two flows and a cookie', beat(2, true), TYPE_HEARTBEAT],
    ['NACK of one range', nack(1), TYPE_NACK],
    [`NACK of ${MAX_NACK_RANGES} ranges`, nack(MAX_NACK_RANGES), TYPE_NACK],
    ['GOODBYE', { type: 'goodbye', ...env, reason: 'shutdown' } as Message, TYPE_GOODBYE],
  ] as const) {
    const bytes = encodeUnchecked(msg);
    t.equal(plainLengthPossible(type, bytes.byteLength), true, `${name}: its ${bytes.byteLength} bytes`);
  }
});

t.test('an encoder names the field whose value does not fit', async (t) => {
  const env = { src: 0xffff, dst: 0, epoch: 7, packetNumber: 1 };
  const big = 2 ** 32;
  const data = { type: 'data', ...env, flow: 'mo', seq: 1, batchId: 1, page: 0, offset: 0, payload: new Uint8Array(8) } as const;
  const commit = { type: 'commit', ...env, flow: 'mo', seq: 9, batchId: 1, dataCount: 1, pageCount: 1, replaces: false, full: false } as const;
  const beat = {
    type: 'heartbeat',
    ...env,
    timestamp: 1,
    echo: { timestamp: 1, delay: 1 },
    wantBcUnicast: false,
    flows: [{ flow: 'mo', highestSeq: 1 }],
  } as const;
  const digest = { type: 'digest', ...env, flow: 'mo', batchId: 1, firstPage: 0, hashes: new BigUint64Array([1n]) } as const;
  const resync = { type: 'resync', src: 0, dst: 0xffff, epoch: 7, packetNumber: 1, flow: 'mo', full: false, firstPage: 0, pageCount: 1 } as const;
  const nack = { type: 'nack', src: 0, dst: 0xffff, epoch: 7, packetNumber: 1, flow: 'mo', ranges: [{ first: 1, count: 1 }] } as const;
  const cases: [string, unknown][] = [
    ['src', { ...data, src: 0x1_0000 }],
    ['dst', { ...data, dst: -1 }],
    ['epoch', { ...data, epoch: big }],
    ['packetNumber', { ...data, packetNumber: 2 ** 48 }],
    ['flow', { ...data, flow: 'xx' }],
    ['seq', { ...data, seq: big }],
    ['batchId', { ...data, batchId: big }],
    ['page', { ...data, page: big }],
    ['offset', { ...data, offset: 0x1_0000 }],
    ['payload length', { ...data, payload: new Uint8Array(0x1_0000) }],
    ['seq', { ...commit, seq: big }],
    ['batchId', { ...commit, batchId: big }],
    ['dataCount', { ...commit, dataCount: big }],
    ['pageCount', { ...commit, pageCount: big }],
    ['timestamp', { ...beat, timestamp: big }],
    ['echo.timestamp', { ...beat, echo: { timestamp: big, delay: 0 } }],
    ['echo.delay', { ...beat, echo: { timestamp: 0, delay: big } }],
    ['flow count', { ...beat, flows: Array.from({ length: 256 }, () => ({ flow: 'mo', highestSeq: 1 })) }],
    ['flow', { ...beat, flows: [{ flow: 'xx', highestSeq: 1 }] }],
    ['highestSeq', { ...beat, flows: [{ flow: 'mo', highestSeq: big }] }],
    ['batchId', { ...digest, batchId: big }],
    ['firstPage', { ...digest, firstPage: big }],
    ['hash count', { ...digest, hashes: new BigUint64Array(0x1_0000) }],
    ['firstPage', { ...resync, firstPage: big }],
    ['pageCount', { ...resync, pageCount: big }],
    ['range count', { ...nack, ranges: Array.from({ length: 0x1_0000 }, () => ({ first: 1, count: 1 })) }],
    ['range first', { ...nack, ranges: [{ first: big, count: 1 }] }],
    ['range count', { ...nack, ranges: [{ first: 1, count: big }] }],
  ];
  for (const [name, msg] of cases) {
    t.throws(
      () => encodeUnchecked(msg as Message),
      { name: 'RangeError', message: new RegExp(`^${name.replace('.', '\\.')} must be an integer 0\\.\\.\\d+, got `) },
      name,
    );
  }
  const w = new Writer(HEADER_SIZE);
  t.throws(() => writeHeader(w, TYPE_DATA, 0x100, 0, env), /^flags must be an integer 0\.\.255, got 256/, 'flags');
  t.throws(() => encodeUnchecked({ ...digest, hashes: [-1n] as unknown as BigUint64Array } as Message), /^hash does not fit in u64: -1$/, 'hash');
  t.throws(
    () => encodeUnchecked({ ...beat, cookie: new Uint8Array(15) } as unknown as Message),
    new RangeError(`cookie must be ${HEARTBEAT_COOKIE_SIZE} bytes`),
    'a cookie of 15 bytes',
  );
});

// spec §5.1 and §5.3: DATA is checked against the session's page size, word size and page
// count before anything is written, and senders size fragments to fit the MTU.
import t from 'tap';
import { checkDataAgainstSegment, checkPagesAgainstSegment, decode, encode, maxDataPayload, type DataMessage } from '../../src/udp/codec.js';

const g = { pageSize: 1024, wordSize: 8, pageCount: 4 };
const data = (page: number, offset: number, length: number): DataMessage => ({
  type: 'data',
  src: 0xffff,
  dst: 0,
  epoch: 1,
  packetNumber: 0,
  flow: 'mo',
  seq: 0,
  batchId: 0,
  page,
  offset,
  payload: new Uint8Array(length),
});

t.test('DATA outside the segment or not in whole words is refused', async (t) => {
  t.equal(checkDataAgainstSegment(data(3, 1016, 8), g), null, 'last word of the last page is fine');
  t.equal(checkDataAgainstSegment(data(4, 0, 8), g), 'range', 'page beyond the segment');
  t.equal(checkDataAgainstSegment(data(0, 1020, 8), g), 'range', 'runs past the page');
  t.equal(checkDataAgainstSegment(data(0, 4, 8), g), 'length', 'offset not a whole word');
  t.equal(checkDataAgainstSegment(data(0, 0, 12), g), 'length', 'length not a whole word');
});

t.test('DIGEST and RESYNC page runs must lie inside the segment', async (t) => {
  t.equal(checkPagesAgainstSegment(0, 4, g), null);
  t.equal(checkPagesAgainstSegment(0, 0, g), null, 'a FULL resync names no run');
  t.equal(checkPagesAgainstSegment(3, 2, g), 'range');
});

t.test('the largest DATA payload keeps datagrams within the MTU, sealed or not', async (t) => {
  t.equal(maxDataPayload(1200, 8, false), 1160);
  t.equal(maxDataPayload(1200, 8, true), 1144);
  t.equal(maxDataPayload(576, 8, true), 520);
  t.equal(maxDataPayload(65507, 1, false), 65467);
  for (const [mtu, w, sealed] of [
    [1200, 8, false],
    [576, 4, true],
    [9000, 2, true],
  ] as const) {
    const n = maxDataPayload(mtu, w, sealed);
    t.equal(n % w, 0);
    t.ok(encode(data(0, 0, n)).length + (sealed ? 16 : 0) <= mtu, `fits MTU ${mtu}`);
  }
});

t.test('a decoded DATA payload is a view of the datagram, not a copy', async (t) => {
  const bytes = encode(data(1, 8, 16));
  const r = decode(bytes);
  if (!r.ok || r.msg.type !== 'data') throw new Error('not decoded');
  t.equal(r.msg.payload.buffer, bytes.buffer);
  t.equal(r.msg.payload.byteLength, 16);
});

// spec §5.1, §5.2: DATA and COMMIT decode to their fields, and each malformed field is
// rejected with its own reason: flags, flow, route, length and counts at their boundaries.
import t from 'tap';
import {
  checkDataAgainstSegment,
  checkPagesAgainstSegment,
  encodeUnchecked,
  maxDataPayload,
  type CommitMessage,
  type DataMessage,
} from '../../src/udp/codec.js';
import {
  COMMIT_DATA_COUNT,
  COMMIT_PAGE_COUNT,
  DATA_LENGTH,
  DATA_OFFSET,
  DATA_PAYLOAD,
  HDR_DST,
  HDR_FLAGS,
  HDR_FLOW,
  HDR_SRC,
} from '../../src/udp/constants.js';
import { decoded, edited, verdict } from '../fixtures/edit-datagram.js';

const env = { src: 0xffff, dst: 2, epoch: 7, packetNumber: 9 };
const data: DataMessage = {
  type: 'data',
  ...env,
  flow: 'mo',
  seq: 0x01020304,
  batchId: 0x0a0b0c0d,
  page: 0x11121314,
  offset: 16,
  payload: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
};
const commit: CommitMessage = {
  type: 'commit',
  ...env,
  flow: 'mo',
  seq: 0x21222324,
  batchId: 0x31323334,
  dataCount: 5,
  pageCount: 3,
  replaces: false,
  full: false,
};

t.test('DATA decodes to the fields it was encoded from, its payload a view of the bytes', async (t) => {
  const bytes = encodeUnchecked(data);
  const m = decoded(bytes, 'data');
  t.match(m, { type: 'data', flow: 'mo', seq: 0x01020304, batchId: 0x0a0b0c0d, page: 0x11121314, offset: 16, src: 0xffff, dst: 2, epoch: 7, packetNumber: 9 });
  t.same([...m.payload], [1, 2, 3, 4, 5, 6, 7, 8]);
  t.equal(bytes.length, DATA_PAYLOAD + 8);
});

t.test('malformed DATA is rejected with the reason of its first bad field', async (t) => {
  t.equal(
    verdict(
      edited(data, (b) => {
        b[HDR_FLAGS] = 0x01;
      }),
    ),
    'flags',
  );
  t.equal(
    verdict(
      edited(data, (b) => {
        b[HDR_FLOW] = 0;
      }),
    ),
    'flow',
  );
  t.equal(
    verdict(
      edited(data, (b) => {
        b[HDR_FLOW] = 2;
      }),
    ),
    'role',
    'RO DATA from the master',
  );
  t.equal(
    verdict(
      edited(data, (b) => {
        b.writeUInt16BE(3, HDR_SRC);
        b.writeUInt16BE(0xffff, HDR_DST);
      }),
    ),
    'role',
    'MO DATA from a remote',
  );
  t.equal(verdict(edited(data, (b) => b.subarray(0, DATA_PAYLOAD - 1))), 'short', 'cut inside the fixed fields');
  t.equal(verdict(edited(data, (b) => b.subarray(0, DATA_PAYLOAD))), 'length', 'no payload, length field 8');
  t.equal(
    verdict(
      edited(data, (b) => {
        b.writeUInt16BE(0, DATA_LENGTH);
        return b.subarray(0, DATA_PAYLOAD);
      }),
    ),
    'length',
    'a zero length',
  );
  t.equal(verdict(edited(data, (b) => b.subarray(0, b.length - 1))), 'length', 'one byte of payload missing');
  t.equal(verdict(edited(data, (b) => Buffer.concat([b, Buffer.alloc(1)]))), 'length', 'one byte too many');
  t.equal(
    verdict(
      edited(data, (b) => {
        b.writeUInt16BE(65528, DATA_OFFSET);
      }),
    ),
    'accepted',
    'the range ends exactly at 65536',
  );
  t.equal(
    verdict(
      edited(data, (b) => {
        b.writeUInt16BE(65529, DATA_OFFSET);
      }),
    ),
    'range',
    'one byte past the largest page',
  );
});

t.test('COMMIT decodes its counts and flags', async (t) => {
  const m = decoded(encodeUnchecked(commit), 'commit');
  t.match(m, { seq: 0x21222324, batchId: 0x31323334, dataCount: 5, pageCount: 3, replaces: false, full: false });
  t.match(decoded(encodeUnchecked({ ...commit, replaces: true }), 'commit'), { replaces: true, full: false });
  t.match(decoded(encodeUnchecked({ ...commit, full: true }), 'commit'), { replaces: false, full: true });
  t.equal(encodeUnchecked({ ...commit, replaces: true, full: true })[HDR_FLAGS], 0x03, 'REPLACES is 0x01, FULL is 0x02');
});

t.test('malformed COMMIT is rejected with the reason of its first bad field', async (t) => {
  t.equal(
    verdict(
      edited(commit, (b) => {
        b[HDR_FLAGS] = 0x04;
      }),
    ),
    'flags',
  );
  t.equal(
    verdict(
      edited(commit, (b) => {
        b[HDR_FLOW] = 7;
      }),
    ),
    'flow',
  );
  t.equal(
    verdict(
      edited(commit, (b) => {
        b.writeUInt16BE(3, HDR_SRC);
        b.writeUInt16BE(0xffff, HDR_DST);
      }),
    ),
    'role',
  );
  t.equal(verdict(edited(commit, (b) => b.subarray(0, b.length - 1))), 'short');
  t.equal(verdict(edited(commit, (b) => Buffer.concat([b, Buffer.alloc(1)]))), 'length');
  const counts = (dataCount: number, pageCount: number): string =>
    verdict(
      edited(commit, (b) => {
        b.writeUInt32BE(dataCount, COMMIT_DATA_COUNT);
        b.writeUInt32BE(pageCount, COMMIT_PAGE_COUNT);
      }),
    );
  t.equal(counts(0, 0), 'count', 'no DATA');
  t.equal(counts(1, 0), 'count', 'no page');
  t.equal(counts(1, 1), 'accepted', 'one DATA for one page');
  t.equal(counts(3, 3), 'accepted', 'as many pages as DATA');
  t.equal(counts(3, 4), 'count', 'more pages than DATA');
  t.equal(counts(0x7fffffff, 1), 'accepted', 'the largest batch the serial window allows');
  t.equal(counts(0x80000000, 1), 'count', 'a batch of 2**31 DATA leaves the serial window');
});

t.test('DATA is checked against the segment at the exact edges of page, range and words', async (t) => {
  const g = { pageSize: 1024, wordSize: 4, pageCount: 4 };
  const at = (page: number, offset: number, length: number): string | null =>
    checkDataAgainstSegment({ ...data, page, offset, payload: new Uint8Array(length) }, g);
  t.equal(at(3, 0, 4), null, 'the last page');
  t.equal(at(4, 0, 4), 'range', 'the page after it');
  t.equal(at(0, 1020, 4), null, 'ends at the end of the page');
  t.equal(at(0, 1024, 4), 'range', 'starts at the end of the page');
  t.equal(at(0, 2, 4), 'length', 'offset of half a word');
  t.equal(at(0, 0, 6), 'length', 'length of one and a half words');
  t.equal(checkPagesAgainstSegment(1, 3, g), null, 'a run that ends on the last page');
  t.equal(checkPagesAgainstSegment(1, 4, g), 'range', 'one page further');
  t.equal(checkPagesAgainstSegment(4, 0, g), null, 'an empty run at the end');
});

t.test('the largest DATA payload is the room the MTU leaves, in whole words', async (t) => {
  t.equal(maxDataPayload(1200, 8, false), 1200 - DATA_PAYLOAD);
  t.equal(maxDataPayload(1203, 4, false), 1160, 'the rest of the room is not a word');
  t.equal(maxDataPayload(1203, 1, false), 1163, 'bytes fill it');
  t.equal(maxDataPayload(1203, 1, true), 1147, 'the tag takes 16');
});

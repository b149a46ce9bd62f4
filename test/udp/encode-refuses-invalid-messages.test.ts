// encode() never emits a datagram that a peer would reject: it throws a RangeError.
import t from 'tap';
import { encode, type Message } from '../../src/udp/codec.js';

const base = { src: 0xffff, dst: 2, epoch: 1, packetNumber: 0 };
const commit: Message = { type: 'commit', ...base, flow: 'mo', seq: 1, batchId: 1, dataCount: 2, pageCount: 1, replaces: false, full: false };

t.test('messages outside the spec are refused with a RangeError', async (t) => {
  t.throws(() => encode({ ...commit, seq: 2 ** 32 }), RangeError, 'seq wider than u32');
  t.throws(() => encode({ ...commit, seq: -1 }), RangeError);
  t.throws(() => encode({ ...commit, seq: 1.5 }), RangeError);
  t.throws(() => encode({ ...commit, pageCount: 3 }), RangeError, 'more pages than DATA');
  t.throws(() => encode({ ...commit, flow: 'ro' }), RangeError, 'RO is not sent by the master');
  t.throws(() => encode({ ...commit, epoch: 0 }), RangeError, 'epoch 0 is reserved');
  t.throws(() => encode({ ...commit, packetNumber: 2 ** 48 }), RangeError);
  t.throws(() => encode({ type: 'nack', src: 2, dst: 0xffff, epoch: 1, packetNumber: 0, flow: 'mo', ranges: [] }), RangeError);
  t.throws(
    () => encode({ type: 'data', ...base, flow: 'mo', seq: 0, batchId: 0, page: 0, offset: 65535, payload: new Uint8Array(2) }),
    RangeError,
    'range beyond the largest page',
  );
  t.throws(
    () => encode({ type: 'reject', ...base, remoteEpoch: 1, expected: 0, offered: 0, reason: 'duplicate', text: 'tab\there', options: [] }),
    RangeError,
    'TEXT with a control character',
  );
  t.doesNotThrow(() => encode(commit));
});

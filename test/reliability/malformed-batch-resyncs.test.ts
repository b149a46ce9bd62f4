import t from 'tap';
import { FlowReceiver } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const data = (seq: number, page: number, offset: number, len: number, batchId = 1): DataMessage => ({
  ...env,
  type: 'data',
  flow: 'mo',
  seq,
  batchId,
  page,
  offset,
  payload: Buffer.alloc(len, 7),
});
const commit = (seq: number, dataCount: number, pageCount: number, batchId = 1): CommitMessage => ({
  ...env,
  type: 'commit',
  flow: 'mo',
  seq,
  batchId,
  dataCount,
  pageCount,
  replaces: false,
  full: false,
});

function receiver() {
  const applied: number[] = [];
  const resyncs: [number, number, boolean][] = [];
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq: 10,
    clock: new FakeClock(),
    geometry: { pageSize: 1024, wordSize: 8, pageCount: 8 },
    apply: (b) => applied.push(b.batchId),
    sendNack: () => undefined,
    requestResync: (first, count, full) => resyncs.push([first, count, full]),
  });
  return { r, applied, resyncs };
}

t.test('a batch whose ranges do not cover its pages is not applied; its pages are asked for again', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 3, 0, 512)); // half of page 3
  r.onDatagram(data(11, 4, 0, 1024));
  r.onDatagram(commit(12, 2, 2));
  t.same(applied, [], 'nothing applied');
  t.same(resyncs, [[3, 2, false]], 'RESYNC for pages 3..4');
  t.equal(r.expected, 13, 'the apply point moved past it');
  t.equal(r.counters.invalid, 1);
});

t.test('a batch whose DATA carry another batch id than its COMMIT is not applied; its pages are asked for again', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 1, 0, 1024, 5));
  r.onDatagram(data(11, 2, 0, 1024, 6));
  r.onDatagram(commit(12, 2, 2, 6));
  t.same(applied, []);
  t.same(resyncs, [[1, 2, false]], 'spec §7.3: a RESYNC of its pages, not RESYNC FULL');
  t.equal(r.expected, 13, 'the apply point moved past it');
});

t.test('a well-formed batch is applied and moves the apply point', async (t) => {
  const { r, applied, resyncs } = receiver();
  r.onDatagram(data(10, 1, 0, 1024));
  r.onDatagram(data(11, 2, 0, 1024));
  r.onDatagram(commit(12, 2, 2));
  t.same(applied, [1]);
  t.same(resyncs, []);
  t.equal(r.expected, 13);
  t.equal(r.lastAppliedBatch, 1);
});

t.test('a digest for the last applied batch finds differing pages and asks for each run', async (t) => {
  const { r, resyncs } = receiver();
  r.onDatagram(data(10, 0, 0, 1024));
  r.onDatagram(commit(11, 1, 1));
  const local = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n];
  const theirs = BigUint64Array.from([1n, 9n, 9n, 4n, 5n, 9n, 7n, 8n]);
  t.same(
    r.onDigest(2, 0, theirs, (p) => local[p]!),
    [],
    'a digest for another batch is ignored',
  );
  t.same(
    r.onDigest(1, 0, theirs, (p) => local[p]!),
    [1, 2, 5],
  );
  t.same(resyncs, [
    [1, 2, false],
    [5, 1, false],
  ]);
});

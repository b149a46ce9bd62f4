import t from 'tap';
import { FlowReceiver, windowFor, type ReceivedBatch } from '../../src/reliability/receiver.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// issue 12: a batch larger than the receiver's old fixed window (65 536 datagrams) could
// never complete (its tail was dropped as beyond the window, and the apply point never
// moved), and a REPLACES batch whose COMMIT came first cost O(batch) per arrival. A full
// batch of 70 000 pages must apply once, whole, in any arrival order.

const PAGES = 70_000;
const PAGE = 512;
const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };
const payload = Buffer.alloc(PAGE, 3);

t.test('a full batch of 70 000 DATA, its COMMIT first and its DATA in reverse, applies once and whole', async (t) => {
  const geometry = { pageSize: PAGE, wordSize: 8 as const, pageCount: PAGES };
  const applied: ReceivedBatch[] = [];
  const clock = new FakeClock();
  const r = new FlowReceiver({
    flow: 'mo',
    firstSeq: 0xffff_fff0,
    clock,
    geometry,
    apply: (b) => applied.push(b),
    sendNack: () => undefined,
    requestResync: () => undefined,
  });
  t.ok(r.window >= 2 * (PAGES + 1), `the window (${r.window}) holds a full batch twice`);
  t.equal(windowFor(geometry, 1200), r.window);
  const first = 0xffff_fff0;
  const commit: CommitMessage = {
    ...env,
    type: 'commit',
    flow: 'mo',
    seq: (first + PAGES) >>> 0,
    batchId: 1,
    dataCount: PAGES,
    pageCount: PAGES,
    replaces: true,
    full: true,
  };
  t.equal(r.onDatagram(commit), 'ok');
  const started = performance.now();
  for (let i = PAGES - 1; i >= 0; i--) {
    const d: DataMessage = { ...env, type: 'data', flow: 'mo', seq: (first + i) >>> 0, batchId: 1, page: i, offset: 0, payload };
    if (r.onDatagram(d) !== 'ok') t.fail(`DATA ${i} refused`);
    if (applied.length > 0 && i > 0) t.fail('applied before it was whole');
  }
  // The last arrival fills the front: the receiver walks the held run DELIVER_SLICE at a
  // time, one turn each (issue 12), so the batch is applied a few turns later.
  for (let turn = 0; turn < 100 && applied.length === 0; turn++) clock.advance(1);
  t.comment(`70 000 arrivals in ${(performance.now() - started).toFixed(0)} ms`);
  t.equal(applied.length, 1, 'applied once');
  t.equal(applied[0]!.data.length, PAGES, 'whole');
  t.equal(r.expected, (first + PAGES + 1) >>> 0, 'the apply point moved past it');
  t.equal(r.heldBytes, 0, 'nothing left staged');
});

import t from 'tap';
import { BatchApplier } from '../../src/daemon/flows.js';
import { StatusRecords } from '../../src/segments/status.js';
import type { DataMessage } from '../../src/udp/codec.js';

// issue 12: a batch of any size is written in steps across event-loop turns while the
// flow's ST generation stays odd from the first step to the last (docs/design.md §3b), so a
// consistent reader retries until the whole batch is in, and batches land in order.

const PAGE = 1024;
const env = { src: 0xffff, dst: 0, epoch: 1, packetNumber: 0 };

function batch(id: number, pages: number, fill: number) {
  const data: DataMessage[] = [];
  for (let p = 0; p < pages; p++) data.push({ ...env, type: 'data', flow: 'mo', seq: p, batchId: id, page: p, offset: 0, payload: Buffer.alloc(PAGE, fill) });
  return { batchId: id, data, full: true, replaces: true };
}

t.test('a large batch is applied over several turns with the generation odd throughout, then even', async (t) => {
  const pages = 64 * 1024; // 64 MiB
  const region = Buffer.alloc(pages * PAGE);
  const st = new StatusRecords(new Uint8Array(new ArrayBuffer(64 * 4)), 3);
  const a = new BatchApplier(region, PAGE, 8, st, 0);
  const done: number[] = [];
  a.onApplied = (b) => done.push(b.batchId);
  a.push(batch(1, pages, 7));
  a.push(batch(2, 4, 9));
  let turns = 0;
  let sawOddWithPart = false;
  while (a.busy && turns < 100_000) {
    if ((st.generation(0) & 1n) === 1n && region[0] === 7 && region[region.length - 1] !== 7) sawOddWithPart = true;
    if (done.length === 0 && region[region.length - 1] === 7) t.equal(st.generation(0) & 1n, 1n, 'odd until the step that ends the batch returns');
    turns++;
    await new Promise((r) => setImmediate(r));
  }
  t.ok(turns > 1, `applied over ${turns} turns`);
  t.ok(sawOddWithPart, 'between turns a reader found the generation odd while the batch was half written');
  t.same(done, [1, 2], 'batches applied in order');
  t.equal(st.generation(0), 4n, 'even after two batches (two bumps each)');
  t.equal(region[PAGE * 3], 9, 'the later batch wrote over the earlier one');
  t.equal(region[PAGE * 5000], 7);
});

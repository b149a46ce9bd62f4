import t from 'tap';
import { flowPair } from '../fixtures/flow-pair.js';
import { testSeed } from '../fixtures/prng.js';

const seed = testSeed();
t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);

for (const [loss, duplicate, reorder] of [
  [0, 0, 0],
  [0.1, 0.05, 0.2],
  [0.3, 0.1, 0.3],
] as const) {
  t.test(`a stream of batches converges byte for byte with ${loss * 100}% loss, duplicates and reordering`, async (t) => {
    const p = flowPair({ seed, loss, duplicate, reorder, pages: 32, firstSeq: 0xffff_fff0 });
    for (let round = 0; round < 200; round++) {
      // Change a few pages by a counter, as writers would.
      for (let k = 0; k < 3; k++) {
        const page = p.rng.int(p.pages);
        p.source.writeBigUInt64LE(BigInt(round * 10 + k + 1), page * p.pageSize + 8 * p.rng.int(p.pageSize / 8));
      }
      p.scanAndSend();
      p.run(5);
      if (round % 4 === 0) p.heartbeat();
    }
    for (let i = 0; i < 200 && !(p.receiver.idle && p.target.equals(p.source)); i++) {
      p.heartbeat();
      p.run(50);
    }
    t.ok(p.target.equals(p.source), 'receiver matches sender');
    t.ok(p.receiver.idle, 'nothing held or missing');
    t.ok(p.sender.highestSeq < 0xffff_fff0, 'the sequence wrapped past 2**32');
    if (loss > 0) t.ok(p.sender.counters.retransmits > 0, 'losses were repaired by retransmission');
    else t.equal(p.sender.counters.retransmits, 0, 'without loss nothing is sent twice');
  });
}

t.test('batches are applied whole and in order', async (t) => {
  const p = flowPair({ seed: seed + 1, loss: 0.2, reorder: 0.5, pages: 8 });
  const batchIds: number[] = [];
  const order = p.applied;
  for (let round = 1; round <= 100; round++) {
    p.source.writeBigUInt64LE(BigInt(round), 0);
    p.source.writeBigUInt64LE(BigInt(round), 7 * p.pageSize);
    p.scanAndSend();
    p.run(3);
  }
  for (let i = 0; i < 100 && !p.receiver.idle; i++) {
    p.heartbeat();
    p.run(50);
  }
  for (const b of order) {
    batchIds.push(b.batchId);
    const pages = new Set(b.data.map((d) => d.page));
    t.ok(pages.has(0) && pages.has(7), `batch ${b.batchId} carries both pages`);
  }
  t.same(
    batchIds,
    [...batchIds].sort((a, b) => a - b),
    'batch ids increase',
  );
  t.ok(p.target.equals(p.source));
});

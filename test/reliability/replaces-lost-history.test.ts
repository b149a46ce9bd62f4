import t from 'tap';
import { flowPair } from '../fixtures/flow-pair.js';

t.test('a batch that fell out of the history is replaced by current contents, and nobody waits forever', async (t) => {
  // A history of about 3 datagrams; everything is lost while far more than that is sent.
  const p = flowPair({ seed: 7, pages: 16, historyBytes: 3 * 1064 });
  p.source.fill(1);
  p.scanAndSend();
  p.run(10);
  t.ok(p.target.equals(p.source), 'the first batch arrives');

  p.setLoss(1);
  for (let round = 2; round < 7; round++) {
    const page = (round * 3) % 16;
    p.source.fill(round, page * p.pageSize, (page + 1) * p.pageSize);
    p.scanAndSend();
    p.run(2);
  }
  t.ok(p.sender.highestSeq - 17 > 3, 'more was sent than the history holds');
  p.setLoss(0);
  for (let i = 0; i < 20 && !(p.receiver.idle && p.target.equals(p.source)); i++) {
    p.heartbeat();
    p.run(100);
  }
  t.ok(p.target.equals(p.source), 'the receiver converged');
  t.ok(p.receiver.idle, 'nothing is held or missing');
  t.ok(p.sender.counters.replaces >= 1, 'a REPLACES batch was sent');
  t.ok(p.receiver.counters.batchesDropped >= 1, 'the batches whose history was gone were dropped, not applied in part');
  t.equal(p.applied.at(-1)?.replaces, true, 'the last batch applied is the replacement');
});

t.test("a lost tail is found through the heartbeat's highest sequence", async (t) => {
  const p = flowPair({ seed: 9, pages: 4 });
  p.setLoss(1);
  p.source.writeUInt32LE(77, 0);
  p.scanAndSend();
  p.run(10);
  p.setLoss(0);
  t.notOk(p.target.equals(p.source), 'nothing arrived yet');
  p.heartbeat();
  p.run(50);
  t.ok(p.target.equals(p.source), 'the heartbeat revealed the loss and the NACK repaired it');
  t.equal(p.receiver.counters.nacksSent, 1, 'one NACK was enough');
});

t.test('a receiver with no gap arms no timer', async (t) => {
  const p = flowPair({ seed: 3, pages: 4 });
  p.source.writeUInt32LE(1, 0);
  p.scanAndSend();
  p.run(5);
  t.ok(p.receiver.idle);
  t.equal(p.clock.pending, 0, 'no timer pending on an idle flow');
});

import t from 'tap';
import { compareSides, ContinuousReader, differingRanges } from '../fixtures/scenario/checker.js';
import { FlowModel, makeFlow, makeSource, PAIR_A, Writers, type Flow } from '../fixtures/scenario/workload.js';

/** A flow between two plain buffers: what the cluster tests build from real segments. */
function fakeFlow(client = 0, size = 4096): Flow {
  const model = new FlowModel({ dir: 'ro', client }, size, 8);
  return makeFlow(
    model,
    makeSource(model, Buffer.alloc(size), (fn) => fn()),
    Buffer.alloc(size),
    (fn) => fn(),
  );
}

t.test('the writer model predicts the region after any number of steps', async (t) => {
  const f = fakeFlow();
  const w = new Writers([f], { stepsPerTick: 7 });
  for (let i = 0; i < 5; i++) {
    w.step();
    t.same(f.source, f.model.expected(f.written), `after ${f.written} steps`);
  }
  t.equal(f.model.seqOf(f.source.readBigUInt64LE(PAIR_A)), 35n, 'the pair holds the last seq');
  t.equal(f.model.seqOf(new FlowModel({ dir: 'mo', client: 0 }, 4096).value(3n)), undefined, "another flow's tag is not this flow's");
});

t.test('compareSides names the byte ranges where the sides or the known state differ', async (t) => {
  const f = fakeFlow();
  new Writers([f], { stepsPerTick: 20 }).step();
  f.source.copy(f.sink);
  t.ok(compareSides([f]).agree, 'identical and as written');
  t.match(compareSides([f]).text, /ro\[0\] 0x0000\.\.0x1000 agree/);
  f.sink[100] = 0xff;
  f.sink[101] = 0xff;
  const c = compareSides([f]);
  t.notOk(c.agree);
  t.same(c.flows[0]!.differ, [{ start: 100, end: 102 }]);
  t.match(c.text, /ro\[0\] DISAGREE: sides differ at 0x0064\.\.0x0066; receiver not as written at 0x0064\.\.0x0066/);
  t.same(differingRanges(Buffer.from([1, 2, 3, 4]), Buffer.from([0, 2, 0, 0])), [
    { start: 0, end: 1 },
    { start: 2, end: 4 },
  ]);
});

t.test('the continuous reader flags torn, backwards, foreign and mixed batches', async (t) => {
  const f = fakeFlow(1);
  const r = new ContinuousReader([f]);
  const at = (seq: bigint): void => {
    f.model.expected(seq).copy(f.sink);
  };
  at(10n);
  r.tick();
  t.equal(r.total, 0, 'a whole batch is fine');
  f.sink.writeBigUInt64LE(f.model.value(11n), PAIR_A);
  r.tick();
  t.equal(r.counts.torn, 1, 'pair words that differ are a torn batch');
  at(5n);
  r.tick();
  t.ok(r.counts.backwards > 0, 'a value going down is flagged');
  at(20n);
  f.sink.writeBigUInt64LE(f.model.value(25n), f.model.slotOffset(1));
  r.tick();
  t.equal(r.counts.ahead, 1, 'a slot newer than the pair is flagged');
  at(30n);
  f.sink.writeBigUInt64LE(new FlowModel({ dir: 'mo', client: 1 }, 4096).value(29n), f.model.slotOffset(2));
  r.tick();
  t.equal(r.counts.foreign, 1, "a word with another flow's tag is flagged");
  t.match(r.summary(), /torn 1, backwards \d+, foreign 1, ahead 1/);
});

t.test("BC flows share one writer: a step writes the master's BC once, and each remote's copy is checked on its own", async (t) => {
  const size = 8192;
  const src = makeSource(new FlowModel({ dir: 'bc', client: -1 }, size, 8), Buffer.alloc(size), (fn) => fn());
  const flows = [0, 1].map((n) => makeFlow(new FlowModel({ dir: 'bc', client: n }, size, 8), src, Buffer.alloc(size), (fn) => fn()));
  const mo = fakeFlow(0, size);
  const w = new Writers([mo, ...flows], { stepsPerTick: 5 });
  w.step();
  t.same(w.sources.length, 2, 'two writers: ro[0] and the one BC writer');
  t.equal(w.totalOf('bc'), 5n, 'BC advanced by one tick, not one tick per remote');
  t.equal(w.total, 10n);
  t.same(
    flows.map((f) => [f.label, f.written]),
    [
      ['bc[0]', 5n],
      ['bc[1]', 5n],
    ],
    'both BC flows see the shared counter',
  );
  t.equal(flows[0]!.model.value(3n), flows[1]!.model.value(3n), 'every remote expects the same BC bytes');
  src.buffer.copy(flows[0]!.sink);
  const c = compareSides(flows);
  t.match(c.text, /bc\[0\] 0x0000\.\.0x2000 agree\nbc\[1\] DISAGREE: sides differ/, 'a remote whose BC lags is named');

  const r = new ContinuousReader(flows);
  r.tick();
  t.equal(r.total, 0, "a BC at seq 0 or at the writer's state is fine");
  flows[1]!.sink.writeBigUInt64LE(mo.model.value(2n), flows[1]!.model.slotOffset(0));
  r.tick();
  t.equal(r.counts.foreign, 1, "an RO word inside a remote's BC is foreign");
});

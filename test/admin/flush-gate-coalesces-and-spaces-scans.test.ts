import t from 'tap';
import { FlushGate, type FlushDone } from '../../src/daemon/flush-gate.js';
import type { FlushScan } from '../../src/session/link.js';
import { FakeClock } from '../fixtures/fake-clock.js';

/** A gate over a fake clock and a hand-run "next turn" queue, with a scan the test scripts. */
function harness(minGapMs: number, results: FlushScan[], scanMs = 0) {
  const clock = new FakeClock();
  const turn: (() => void)[] = [];
  let scans = 0;
  const gate = new FlushGate(
    () => {
      scans++;
      clock.advance(scanMs);
      return results.shift() ?? 0;
    },
    { minGapMs, clock, immediate: (fn) => turn.push(fn) },
  );
  const nextTurn = (): void => {
    for (const fn of turn.splice(0)) fn();
  };
  return { clock, gate, nextTurn, scans: () => scans, pending: () => turn.length + clock.pending };
}

/** Track which requests have been answered. */
function track(p: Promise<FlushDone>): { done?: FlushDone } {
  const box: { done?: FlushDone } = {};
  void p.then((d) => (box.done = d));
  return box;
}
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('a gate nobody asks arms nothing', async (t) => {
  const h = harness(5, []);
  h.clock.advance(10_000);
  t.equal(h.pending(), 0, 'no timer, no queued turn');
  t.equal(h.scans(), 0, 'no scan');
});

t.test('requests of one turn share one scan, answered with what it did', async (t) => {
  const h = harness(5, [3]);
  const asked = Array.from({ length: 100 }, () => track(h.gate.request()));
  t.equal(h.scans(), 0, 'nothing scans inside the turn that asked');
  h.nextTurn();
  await settle();
  t.equal(h.scans(), 1, 'one scan for 100 requests');
  t.ok(
    asked.every((a) => a.done?.outcome === 'sent' && a.done.pages === 3),
    'every request is answered: sent, 3 pages',
  );
  t.match(h.gate, { requests: 100, scans: 1 }, 'the counters say so');
});

t.test('flush scans of a flow are spaced by the minimum gap, and requests in the gap coalesce', async (t) => {
  const h = harness(5, [1, 0]);
  track(h.gate.request());
  h.nextTurn();
  const late = [track(h.gate.request()), track(h.gate.request())];
  h.nextTurn();
  t.equal(h.scans(), 1, 'a request right after a scan does not scan at once');
  h.clock.advance(4);
  t.equal(h.scans(), 1, 'nor before the gap is over');
  h.clock.advance(1);
  await settle();
  t.equal(h.scans(), 2, 'one scan when it is over, for both requests');
  t.same(
    late.map((a) => a.done),
    [
      { outcome: 'unchanged', pages: 0 },
      { outcome: 'unchanged', pages: 0 },
    ],
    'both answered by that scan',
  );
});

t.test('a scan slower than the gap spaces the next by its own duration', async (t) => {
  const h = harness(1, [1, 1], 20);
  track(h.gate.request());
  h.nextTurn();
  track(h.gate.request());
  h.clock.advance(19);
  t.equal(h.scans(), 1, "no second scan within the first one's 20 ms");
  h.clock.advance(1);
  t.equal(h.scans(), 2, 'then one');
});

t.test('while a scan or batch is under way, requests wait for a scan that begins after them', async (t) => {
  const h = harness(0, ['scanning', 'scanning', 'busy']);
  const a = track(h.gate.request());
  h.nextTurn();
  const b = track(h.gate.request());
  h.clock.advance(1);
  await settle();
  t.equal(a.done, undefined, 'not answered while the flow is scanning');
  h.clock.advance(1);
  await settle();
  t.equal(h.scans(), 3, 'tried again each millisecond, only while someone waits');
  t.same(
    [a.done, b.done],
    [
      { outcome: 'busy', pages: 0 },
      { outcome: 'busy', pages: 0 },
    ],
    'both answered by the scan that ran',
  );
  t.equal(h.gate.scans, 1, 'one flush scan counted');
  h.clock.advance(100);
  t.equal(h.scans(), 3, 'and nothing runs after');
});

t.test('close answers the waiting requests with down, and later ones at once', async (t) => {
  const h = harness(0, []);
  const a = track(h.gate.request());
  h.gate.close();
  h.nextTurn();
  await settle();
  t.same(a.done, { outcome: 'down', pages: 0 }, 'a waiting request: down');
  t.same(await h.gate.request(), { outcome: 'down', pages: 0 }, 'a later one: down');
  t.equal(h.scans(), 0, 'no scan after close');
});

t.test('by default the scan runs once the asking callback returns, before any other event-loop work', async (t) => {
  const order: string[] = [];
  const gate = new FlushGate(
    () => {
      order.push('scan');
      return 1;
    },
    { minGapMs: 0 },
  );
  setImmediate(() => order.push('next turn'));
  const asked = [gate.request(), gate.request()];
  order.push('asked');
  t.same(order, ['asked'], 'not inside request() itself');
  const done = await Promise.all(asked);
  await new Promise((r) => setImmediate(r));
  t.same(order, ['asked', 'scan', 'next turn'], 'the scan came before the next event-loop turn');
  t.same(
    done,
    [
      { outcome: 'sent', pages: 1 },
      { outcome: 'sent', pages: 1 },
    ],
    'both requests of the callback rode on that one scan',
  );
  t.equal(gate.scans, 1, 'one scan');
});

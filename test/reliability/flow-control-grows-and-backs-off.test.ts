import t from 'tap';
import { FlowControl } from '../../src/reliability/flow-control.js';

/** Send as fast as the controller allows for `ms`, 1 ms steps; returns datagrams sent. */
function drive(fc: FlowControl, start: number, ms: number, seq: { next: number }): number {
  let sent = 0;
  for (let now = start; now < start + ms; now++) {
    const n = fc.available(now);
    if (n > 0) {
      seq.next += n;
      fc.onSent(now, n, seq.next - 1);
      sent += n;
    }
  }
  return sent;
}

t.test('the rate doubles per period while what was sent goes un-NACKed, up to the ceiling', async (t) => {
  const fc = new FlowControl(0, { initialRate: 1000, maxRate: 64_000 });
  const seq = { next: 1 };
  drive(fc, 0, 2000, seq);
  t.equal(fc.rate, 64_000, `grew to the ceiling (rate ${fc.rate})`);
  t.equal(fc.state.phase, 'slow-start');
});

t.test('a loss halves the rate once per loss event, and an older NACK does not halve it again', async (t) => {
  const fc = new FlowControl(0, { initialRate: 16_000, maxRate: 16_000 });
  const seq = { next: 1 };
  drive(fc, 0, 100, seq);
  t.equal(fc.rate, 16_000);
  t.equal(fc.onLoss(100, 50), true, 'a new loss event');
  t.equal(fc.rate, 8000, 'halved');
  t.equal(fc.onLoss(101, 60), false, 'a loss of a datagram sent before the decrease is the same event');
  t.equal(fc.rate, 8000);
  drive(fc, 101, 5, seq);
  t.equal(fc.onLoss(106, seq.next - 1), true, 'a loss of a datagram sent after the decrease is a new event');
  t.equal(fc.rate, 4000);
  t.equal(fc.state.phase, 'avoidance');
  t.equal(fc.state.lossEvents, 2);
});

t.test('after a loss the rate grows by an eighth per period, not doubling', async (t) => {
  const fc = new FlowControl(0, { initialRate: 8000, maxRate: 1_000_000, minPeriodMs: 10 });
  const seq = { next: 1 };
  fc.onLoss(0, 0);
  const after = fc.rate;
  drive(fc, 0, 31, seq); // one period plus the ack delay
  t.ok(fc.rate > after && fc.rate <= after * 1.125 + 1, `grew gently from ${after} to ${fc.rate}`);
});

t.test('the rate never falls below its floor', async (t) => {
  const fc = new FlowControl(0, { initialRate: 2000, minRate: 500 });
  const seq = { next: 1 };
  for (let i = 0; i < 20; i++) {
    drive(fc, i * 10, 10, seq);
    fc.onLoss(i * 10 + 10, seq.next - 1);
  }
  t.equal(fc.rate, 500);
});

t.test('an application-limited flow does not grow its rate', async (t) => {
  const fc = new FlowControl(0, { initialRate: 10_000 });
  for (let now = 0; now < 2000; now += 10) {
    fc.available(now);
    fc.onSent(now, 1); // 100/s, far below what 10 000/s allows
  }
  t.equal(fc.rate, 10_000);
  t.equal(fc.state.appLimited, true);
});

t.test('tokens accrue at the rate up to the burst, and the delay names when the next one is due', async (t) => {
  const fc = new FlowControl(0, { initialRate: 1000, burst: 8 });
  t.equal(fc.available(0), 8, 'a full burst to begin with');
  fc.onSent(0, 8, 8);
  t.equal(fc.available(0), 0);
  t.equal(fc.delayMs(0), 1, 'one token per ms at 1000/s');
  t.equal(fc.available(5), 5);
  t.equal(fc.available(1000), 8, 'never more than the burst');
});

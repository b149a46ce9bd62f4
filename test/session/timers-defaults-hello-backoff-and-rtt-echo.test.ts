// spec/protocol.md §12 timer defaults, §4.6 HELLO back-off, §6.2 heartbeat timestamps, echo
// and RTT: the pure functions of src/session/timers.ts, with exact values at each bound.
import t from 'tap';
import { defaultTimers, echoFor, heardHeartbeat, helloDelay, smoothRtt, stampUs, type EchoState } from '../../src/session/timers.js';

t.test('defaults: heartbeat is the scan interval within [50, 1000] ms, liveness 5 heartbeats but at least 1 s, digest 30 s', async (t) => {
  t.same(defaultTimers(100), { heartbeatMs: 100, livenessMs: 1000, digestMs: 30_000 }, '-i 100: liveness is the 1 s floor');
  t.same(defaultTimers(10), { heartbeatMs: 50, livenessMs: 1000, digestMs: 30_000 }, 'a 10 ms scan still beats every 50 ms');
  t.same(defaultTimers(300), { heartbeatMs: 300, livenessMs: 1500, digestMs: 30_000 }, 'liveness 5 heartbeats once above 1 s');
  t.same(defaultTimers(5000), { heartbeatMs: 1000, livenessMs: 5000, digestMs: 30_000 }, 'a slow scan beats every second');
});

t.test('each override replaces its default, and liveness follows an overridden heartbeat', async (t) => {
  t.same(defaultTimers(100, { heartbeatMs: 400 }), { heartbeatMs: 400, livenessMs: 2000, digestMs: 30_000 });
  t.same(defaultTimers(100, { livenessMs: 777 }), { heartbeatMs: 100, livenessMs: 777, digestMs: 30_000 });
  t.same(defaultTimers(100, { digestMs: 5 }), { heartbeatMs: 100, livenessMs: 1000, digestMs: 5 });
});

t.test('HELLO retry n waits 500 ms doubling to 8 s, times a factor in [0.5, 1.5]', async (t) => {
  const mid = () => 0.5;
  t.same(
    [0, 1, 2, 3, 4, 5, 9].map((n) => helloDelay(n, mid)),
    [500, 1000, 2000, 4000, 8000, 8000, 8000],
    'factor 1: doubling, capped at 8 s',
  );
  t.equal(
    helloDelay(0, () => 0),
    250,
    'the smallest factor halves it',
  );
  t.equal(
    helloDelay(0, () => 1),
    750,
    'the largest adds half',
  );
  t.equal(
    helloDelay(7, () => 1),
    12_000,
    'the cap applies before the factor',
  );
  for (let i = 0; i < 20; i++) {
    const d = helloDelay(0);
    t.ok(d >= 250 && d <= 750, `Math.random by default: ${d} within [250, 750]`);
  }
});

t.test('heartbeat timestamps are microseconds modulo 2**32, rounded down', async (t) => {
  t.equal(stampUs(0), 0);
  t.equal(stampUs(1.5), 1500);
  t.equal(stampUs(0.0019), 1, '1.9 us rounds down');
  t.equal(stampUs(4_294_968), 704, '4294968000 us wraps to 704');
});

t.test('RTT: now - echoed timestamp - echo delay, smoothed by 1/8', async (t) => {
  const echo = (timestamp: number, delay: number) => ({ timestamp, delay });
  t.equal(smoothRtt(undefined, 10, echo(2000, 3000)), 5, 'first sample taken as is: 10000 - 2000 - 3000 us');
  t.equal(smoothRtt(13, 10, echo(2000, 3000)), 12, '13 + (5 - 13) / 8');
  t.equal(smoothRtt(undefined, 1, echo(0x1_0000_0000 - 1000, 0)), 2, 'the timestamp difference wraps modulo 2**32');
  t.equal(smoothRtt(undefined, 10, echo(10_000, 0)), 0, 'a sample of 0 is taken');
  t.equal(smoothRtt(undefined, 60_000, echo(0, 0)), 60_000, 'a sample of 60 s is taken');
  t.equal(smoothRtt(undefined, 60_001, echo(0, 0)), 100, 'above 60 s it is ignored: 100 ms without a previous value');
  t.equal(smoothRtt(undefined, 10, echo(9000, 2000)), 100, 'a negative sample (the delay exceeds the time) is ignored');
  t.equal(smoothRtt(40, 10, echo(9000, 2000)), 40, 'and keeps the previous value');
});

t.test('the echo gives back the peer timestamp and how long it was held, in us, capped at 2**32 - 1', async (t) => {
  const s: EchoState = { peerStamp: undefined, rttMs: undefined };
  t.equal(echoFor(s, 5), null, 'no heartbeat heard: no echo');
  s.peerStamp = { timestamp: 77, at: 10 };
  t.same(echoFor(s, 12.5), { timestamp: 77, delay: 2500 });
  t.same(echoFor(s, 10.0004), { timestamp: 77, delay: 0 }, 'rounded to the microsecond');
  t.same(echoFor(s, 10.0006), { timestamp: 77, delay: 1 });
  t.same(echoFor(s, 10 + 5e6), { timestamp: 77, delay: 0xffffffff }, 'held 5000 s: the field is full');
});

t.test('a heartbeat is remembered for the echo; one with an echo updates the RTT', async (t) => {
  const s: EchoState = { peerStamp: undefined, rttMs: undefined };
  t.equal(heardHeartbeat(s, { timestamp: 5, echo: null }, 3), undefined, 'no echo: no RTT');
  t.same(s, { peerStamp: { timestamp: 5, at: 3 }, rttMs: undefined });
  t.equal(heardHeartbeat(s, { timestamp: 6, echo: { timestamp: 2000, delay: 3000 } }, 10), 5);
  t.same(s, { peerStamp: { timestamp: 6, at: 10 }, rttMs: 5 });
  t.equal(heardHeartbeat(s, { timestamp: 7, echo: { timestamp: 2000, delay: 6000 } }, 21), 6, '5 + (13 - 5) / 8');
  t.equal(s.rttMs, 6);
});

import t from 'tap';
import { RejectBudget } from '../../src/session/reject-budget.js';
import { hello, masterHarness } from '../fixtures/session-harness.js';

t.test('REJECTs are limited per source address, whatever the port', async (t) => {
  const h = masterHarness();
  for (let port = 1; port <= 1000; port++) h.deliver(hello({ src: 9 }), { address: '192.0.2.7', port });
  const n = h.io.take('reject').length;
  t.ok(n >= 1 && n <= 8, `1000 spoofed ports drew ${n} REJECTs (at most the burst of 8)`);
  h.clock.advance(1000);
  for (let port = 1; port <= 1000; port++) h.deliver(hello({ src: 9 }), { address: '192.0.2.7', port });
  t.ok(h.io.take('reject').length <= 2, 'then about 2 a second');
});

t.test('and by a global budget across addresses', async (t) => {
  const b = new RejectBudget(0, { perAddressBurst: 8, perAddressPerSecond: 2, globalPerSecond: 100, maxAddresses: 4096 });
  let allowed = 0;
  for (let i = 0; i < 5000; i++) if (b.allow(`198.51.100.${i % 250}|${i}`, 0)) allowed++;
  t.equal(allowed, 100, '5000 addresses in one instant draw 100');
  t.ok(b.allow('203.0.113.1', 1000), 'a second later there is room again');
});

t.test('at most maxAddresses are remembered: the oldest is forgotten first, and not before the cap', async (t) => {
  const b = new RejectBudget(0, { perAddressBurst: 1, perAddressPerSecond: 0, globalPerSecond: 100, maxAddresses: 2 });
  t.equal(b.allow('10.0.0.1', 0), true);
  t.equal(b.allow('10.0.0.1', 0), false, 'A spent its one REJECT');
  t.equal(b.allow('10.0.0.2', 0), true);
  t.equal(b.allow('10.0.0.1', 0), false, 'two addresses fit the cap: A is still remembered as spent');
  t.equal(b.allow('10.0.0.3', 0), true, 'a third address: A, the oldest, is forgotten');
  t.equal(b.allow('10.0.0.2', 0), false, 'B is still remembered');
  t.equal(b.allow('10.0.0.1', 0), true, 'A comes back as new, with a full bucket');
});

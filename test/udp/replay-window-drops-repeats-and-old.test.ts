// spec §9.4: the 1024-packet replay window accepts each packet number once, in any order
// within the window, and drops anything older.
import t from 'tap';
import { ReplayWindow } from '../../src/udp/replay-window.js';

t.test('a packet number is accepted once, reordered ones within the window are accepted', async (t) => {
  const w = new ReplayWindow();
  t.ok(w.accept(0));
  t.notOk(w.accept(0), 'repeat dropped');
  t.ok(w.accept(5));
  t.ok(w.accept(3), 'late but inside the window');
  t.notOk(w.accept(3));
  t.ok(w.accept(1));
  t.equal(w.highest, 5);
});

t.test('numbers 1024 or more below the highest are dropped', async (t) => {
  const w = new ReplayWindow();
  t.ok(w.accept(2000));
  t.ok(w.check(2000 - 1023), 'the oldest slot is still open');
  t.notOk(w.check(2000 - 1024), 'one further is too old');
  t.ok(w.accept(977));
  t.notOk(w.accept(976));
});

t.test('big jumps forget the old bitmap, small jumps keep it', async (t) => {
  const w = new ReplayWindow();
  for (let pn = 0; pn < 100; pn += 2) t.ok(w.accept(pn));
  t.ok(w.accept(140), 'jump of 42 crosses a 32-bit word boundary');
  for (let pn = 0; pn < 100; pn += 2) t.notOk(w.check(pn), `${pn} still recorded`);
  for (let pn = 1; pn < 100; pn += 2) t.ok(w.check(pn), `${pn} still open`);
  t.ok(w.accept(2 ** 47), 'a jump beyond the window clears it');
  t.ok(w.accept(2 ** 47 - 1));
  t.notOk(w.accept(140), 'long gone');
});

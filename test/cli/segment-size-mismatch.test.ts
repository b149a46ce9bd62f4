import t from 'tap';
import { masterKeys } from '../../src/segments/layout.js';
import { Segment } from '../../src/segments/segment.js';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

t.test('an existing segment with another size stops the daemon with exit 1 and is left untouched', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  // Someone else's MO of 8192 bytes, holding data.
  const other = Segment.open(masterKeys(place.keyBase).MO, 8192, { create: true, mode: 0o600, label: 'MO' });
  t.teardown(() => other.detach());
  other.buffer.write('precious', 100);

  const r = runBin(BIN.master, [...place.args, '-p', '1', '-s', '4096']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /MO segment key 0x[0-9a-f]+ exists with size 8192, expected size 4096/);
  t.equal(other.stat().size, 8192, 'size unchanged');
  t.equal(other.buffer.toString('utf8', 100, 108), 'precious', 'data unchanged');
});

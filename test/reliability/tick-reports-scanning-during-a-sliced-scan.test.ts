import t from 'tap';
import { OutFlow } from '../../src/daemon/flows.js';
import { StatusRecords } from '../../src/segments/status.js';
import { ST_RECORD_SIZE } from '../../src/segments/layout.js';
import { SLICED_SCAN_BYTES } from '../../src/segments/scanner.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// issue 12: a region above SLICED_SCAN_BYTES is scanned in steps across event-loop turns.
// While that scan runs, tick() says 'scanning' and starts no second scan, no digest is
// made, and the batch it finds is queued only when the scan is done.

const PAGE = 1024;

t.test('tick() says scanning while a sliced scan runs, then the batch it found is queued', async (t) => {
  const clock = new FakeClock();
  const st = new StatusRecords(new Uint8Array(new ArrayBuffer(2 * ST_RECORD_SIZE)), 1);
  // 64 MiB: hash, copy and hash again take many 8 ms steps even on a fast machine.
  const region = Buffer.alloc(16 * SLICED_SCAN_BYTES, 3);
  const out = new OutFlow('mo', region, PAGE, st, 0);
  t.ok(out.scanner.needsSlicing, `${region.length} bytes need slicing`);
  let sent = 0;
  out.start({
    src: 0xffff,
    dst: 0,
    epoch: 1,
    firstSeq: 1,
    geometry: { pageSize: PAGE, wordSize: 8, mtu: 1200 },
    sealed: false,
    clock,
    emit: () => void sent++,
  });
  t.equal(out.tick(), 'scanning', 'the first tick starts a sliced scan');
  t.equal(out.tick(), 'scanning', 'a tick during it starts no second one');
  t.notOk(out.sender!.sending, 'nothing queued before the scan is done');
  t.same(out.digest(8, 145), [], 'no digest while scanning');
  let turns = 0;
  for (; turns < 10_000 && !out.sender!.sending; turns++) await new Promise((r) => setImmediate(r));
  t.ok(turns >= 1, `the scan took ${turns} more turn(s)`);
  t.ok(out.sender!.sending, 'then the batch was queued');
  t.match(out.sender!.progress, { full: true, bytesTotal: region.length }, "the session's full batch");
  t.ok(sent > 0, 'and its first datagrams left at once');
  out.stop();
});

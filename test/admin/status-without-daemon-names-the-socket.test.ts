import t from 'tap';
import { join } from 'node:path';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

t.test('pdsm status and top without a running daemon exit 1 and name the socket', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  for (const [args, socket] of [
    [['status'], join(place.dir, 'pdsm_master.sock')],
    [['status', '--json', '--client', '3'], join(place.dir, 'pdsm_remote_3.sock')],
    [['top'], join(place.dir, 'pdsm_master.sock')],
  ] as const) {
    const r = runBin(BIN.pdsm, [...args, '-d', place.dir]);
    t.equal(r.status, 1, `${args.join(' ')} exits 1`);
    t.equal(r.stdout, '', 'prints nothing on stdout');
    t.ok(r.stderr.includes(`no daemon answers on ${socket}: no such socket`), `names ${socket}: ${r.stderr}`);
  }
});

import t from 'tap';
import { startCluster } from '../fixtures/cluster.js';
import { freeTcpPort, scrape } from '../fixtures/admin.js';

t.test('the metrics endpoint counts flush requests, flush scans and periodic scans', async (t) => {
  const port = await freeTcpPort();
  const c = await startCluster({ remotes: 1, intervalMs: 60_000, masterArgs: ['--metrics', String(port)] });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  for (let i = 0; i < 3; i++) await m.flush(0); // one after the other: each has its own scan
  // Six asked in one tick: the library writes the first at once and the other five in one write
  // at the tick's end. The daemon reads that as one or two reads (the kernel decides), and every
  // request of a read rides on one scan: one or two scans for the six, never six.
  await Promise.all(Array.from({ length: 6 }, () => m.flush(0)));
  const body = (await scrape(port)).body;
  const mo = { peer: '0', flow: 'mo', direction: 'out' };
  t.equal(body.types.get('pdsm_flush_requests_total'), 'counter', 'pdsm_flush_requests_total is a counter');
  t.equal(body.get('pdsm_flush_requests_total', mo), 9, 'nine flush requests for MO slice 0');
  const scans = body.get('pdsm_flush_scans_total', mo);
  t.ok(scans === 4 || scans === 5, `four or five flush scans: three for the three in turn, one or two for the six of one tick (${scans})`);
  t.equal(body.get('pdsm_flush_requests_total', { peer: '0', flow: 'ro', direction: 'in' }), undefined, 'incoming flows have no flush counters');
  t.equal(body.get('pdsm_scans_total'), 0, 'no periodic scan ran at -i 60000');
});

import t from 'tap';
import { startCluster } from '../fixtures/cluster.js';
import { freeTcpPort, scrape } from '../fixtures/admin.js';

t.test('the metrics endpoint counts flush requests, flush scans and periodic scans', async (t) => {
  const port = await freeTcpPort();
  const c = await startCluster({ remotes: 1, intervalMs: 60_000, masterArgs: ['--metrics', String(port)] });
  t.teardown(() => c.destroy());
  const m = c.attachMaster();
  for (let i = 0; i < 3; i++) await m.flush(0); // one after the other: each has its own scan
  await Promise.all([m.flush(0), m.flush(0)]); // asked in one tick: one scan
  const body = (await scrape(port)).body;
  const mo = { peer: '0', flow: 'mo', direction: 'out' };
  t.equal(body.types.get('pdsm_flush_requests_total'), 'counter', 'pdsm_flush_requests_total is a counter');
  t.equal(body.get('pdsm_flush_requests_total', mo), 5, 'five flush requests for MO slice 0');
  t.equal(body.get('pdsm_flush_scans_total', mo), 4, 'four flush scans: the last two requests shared one');
  t.equal(body.get('pdsm_flush_requests_total', { peer: '0', flow: 'ro', direction: 'in' }), undefined, 'incoming flows have no flush counters');
  t.equal(body.get('pdsm_scans_total'), 0, 'no periodic scan ran at -i 60000');
});

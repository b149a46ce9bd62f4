import t from 'tap';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { freeTcpPort, scrape, type Exposition } from '../fixtures/admin.js';

t.test('the metrics endpoints scrape as Prometheus text and their counters move when data flows', async (t) => {
  const [masterPort, remotePort] = [await freeTcpPort(), await freeTcpPort()];
  const started = Date.now();
  const c = await startCluster({ remotes: 1, intervalMs: 50, masterArgs: ['--metrics', String(masterPort)], start: [] });
  t.teardown(() => c.destroy());
  await c.startRemote(0, ['--metrics', `127.0.0.1:${remotePort}`]);
  t.match(c.master.stderr(), new RegExp(`metrics endpoint url=http://127\\.0\\.0\\.1:${masterPort}/metrics`));

  const first = await scrape(masterPort);
  t.equal(first.status, 200);
  t.match(first.contentType, /^text\/plain; version=0\.0\.4/);
  const m = first.body;
  const families: Record<string, string> = {
    pdsm_datagrams_total: 'counter',
    pdsm_bytes_total: 'counter',
    pdsm_dropped_datagrams_total: 'counter',
    pdsm_nacks_total: 'counter',
    pdsm_retransmits_total: 'counter',
    pdsm_resyncs_total: 'counter',
    pdsm_page_bytes_total: 'counter',
    pdsm_flow_batches_total: 'counter',
    pdsm_peer_up: 'gauge',
    pdsm_peer_last_heard_seconds: 'gauge',
    pdsm_rtt_seconds: 'histogram',
    pdsm_scan_duration_seconds: 'histogram',
  };
  for (const [name, type] of Object.entries(families)) t.equal(m.types.get(name), type, `${name} is a ${type}`);
  for (const [name, type] of m.types) if (type === 'counter') t.match(name, /_total$/, `counter ${name} ends in _total`);
  t.equal(m.get('pdsm_info', { role: 'master' }), 1);
  t.equal(m.get('pdsm_peer_up', { peer: '0' }), 1, 'remote 0 is up');
  const heard = m.get('pdsm_peer_last_heard_seconds', { peer: '0' });
  const sinceStart = (Date.now() - started) / 1000;
  t.ok(heard !== undefined && heard >= 0 && heard <= sinceStart, `remote 0 was heard since the cluster started (${heard} s ago, started ${sinceStart} s ago)`);

  // Wait, at most 100 scrapes 50 ms apart, until both histograms have samples (scans every
  // 50 ms, RTT with each heartbeat echo); the assertions below say what was last seen.
  let later: Exposition = m;
  for (let i = 0; i < 100; i++) {
    later = (await scrape(masterPort)).body;
    if (later.get('pdsm_scan_duration_seconds_count')! > 0 && later.get('pdsm_rtt_seconds_count')! > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(later.get('pdsm_scan_duration_seconds_count')! > 0, 'scan durations observed');
  t.ok(later.get('pdsm_rtt_seconds_count')! > 0, 'round trips observed');
  t.equal(later.get('pdsm_rtt_seconds_bucket', { le: '+Inf' }), later.get('pdsm_rtt_seconds_count'));

  const before = {
    pageBytes: later.get('pdsm_page_bytes_total', { peer: '0', flow: 'mo', direction: 'out' })!,
    data: later.get('pdsm_datagrams_total', { direction: 'out', type: 'data' })!,
    wireBytes: later.get('pdsm_bytes_total', { direction: 'out', type: 'data' })!,
    batches: later.get('pdsm_flow_batches_total', { peer: '0', flow: 'mo', direction: 'out' })!,
  };
  const remoteBefore = (await scrape(remotePort)).body;
  t.equal(remoteBefore.get('pdsm_info', { role: 'remote', client_id: '0' }), 1);
  t.equal(remoteBefore.get('pdsm_peer_up', { peer: 'master' }), 1, 'the remote sees the master up');
  const appliedBefore = remoteBefore.get('pdsm_page_bytes_total', { peer: 'master', flow: 'mo', direction: 'in' })!;

  // Change two pages of MO slice 0: they travel to remote 0.
  const master = c.attachMaster();
  master.moSlice(0).writeBigUInt64LE(0x1234n, 0);
  master.moSlice(0).writeBigUInt64LE(0x5678n, 2048);
  const remote = c.attachRemote(0);
  t.ok(await eventually(() => remote.mo.readBigUInt64LE(2048) === 0x5678n), 'the change arrived');

  const after = (await scrape(masterPort)).body;
  t.equal(after.get('pdsm_page_bytes_total', { peer: '0', flow: 'mo', direction: 'out' })! - before.pageBytes, 2048, 'two 1 KiB pages sent');
  t.ok(after.get('pdsm_datagrams_total', { direction: 'out', type: 'data' })! > before.data, 'DATA datagrams counted');
  t.ok(after.get('pdsm_bytes_total', { direction: 'out', type: 'data' })! >= before.wireBytes + 2048, 'wire bytes counted');
  t.ok(after.get('pdsm_flow_batches_total', { peer: '0', flow: 'mo', direction: 'out' })! > before.batches, 'a batch counted');
  const remoteAfter = (await scrape(remotePort)).body;
  t.equal(remoteAfter.get('pdsm_page_bytes_total', { peer: 'master', flow: 'mo', direction: 'in' })! - appliedBefore, 2048, 'two pages applied on the remote');

  // Counters come from the report's cumulative numbers: scraping again does not add.
  const again = (await scrape(masterPort)).body;
  t.equal(
    again.get('pdsm_page_bytes_total', { peer: '0', flow: 'mo', direction: 'out' }),
    after.get('pdsm_page_bytes_total', { peer: '0', flow: 'mo', direction: 'out' }),
    'no double counting across scrapes',
  );

  const notFound = await fetch(`http://127.0.0.1:${masterPort}/nope`);
  t.equal(notFound.status, 404);
  await notFound.text();
});

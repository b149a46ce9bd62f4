// A NACK the sender cannot answer with the DATA it names (gone from the history, or cut larger
// than the NACKing session's MTU, spec §8.1) is answered by a replacement batch. Both causes are
// counted by the sender; status (`--json`) and the metrics show them per outgoing flow, summed
// over the peer's sessions like every other flow counter. So is what a full repair queue shed.
import t from 'tap';
import { FlowTotals, Observers, type DaemonReport } from '../../src/daemon/status-report.js';
import { buildRegistry } from '../../src/daemon/metrics.js';
import type { SenderCounters } from '../../src/reliability/sender.js';
import { parseExposition } from '../fixtures/admin.js';
import { MASTER_SNAPSHOT } from '../fixtures/snapshot.js';

function counters(tooOld: number, oversized: number, shed = 0): SenderCounters {
  return {
    batches: 1,
    datagrams: 10,
    bytes: 1024,
    retransmits: 2,
    replaces: 1,
    fullBatches: 0,
    nacksReceived: 3,
    nackedTooOld: tooOld,
    nackedOversized: oversized,
    nackIgnored: 0,
    nackShed: shed,
    resyncsRefused: 0,
    resyncsCoalesced: 0,
  };
}

t.test('an outgoing flow reports both counts, summed over finished sessions and the live one', async (t) => {
  const first = FlowTotals.fromSender('mo', counters(3, 1, 100));
  t.match(first, { direction: 'out', nackedTooOld: 3, nackedOversized: 1, nackShed: 100 }, 'one session: its own counts');
  const totals = new FlowTotals('mo', 'out');
  totals.add(first);
  totals.add(FlowTotals.fromSender('mo', counters(4, 0)));
  t.match(
    totals.with(FlowTotals.fromSender('mo', counters(5, 7, 2))),
    { nackedTooOld: 12, nackedOversized: 8, nackShed: 102 },
    'two ended sessions plus the live one',
  );
  t.match(totals.with(undefined), { nackedTooOld: 7, nackedOversized: 1 }, 'no live session: the ended ones');
  t.match(FlowTotals.fromSender('mo', undefined), { nackedTooOld: 0, nackedOversized: 0 }, 'no sender yet: zero, not absent');
});

t.test('an incoming flow has neither count', async (t) => {
  const r = FlowTotals.fromReceiver('ro', undefined, 0, 0);
  t.notOk('nackedTooOld' in r, 'no nackedTooOld on an in flow');
  t.notOk('nackedOversized' in r, 'no nackedOversized on an in flow');
  t.notOk('nackShed' in r, 'no nackShed on an in flow');
  const totals = new FlowTotals('ro', 'in');
  totals.add(r);
  const sum = totals.with(r);
  t.notOk('nackedTooOld' in sum || 'nackedOversized' in sum, 'nor once summed');
});

t.test('the metrics carry both counts per peer and outgoing flow, none for incoming flows', async (t) => {
  const report: DaemonReport = structuredClone(MASTER_SNAPSHOT);
  report.peers[0]!.flows[0] = { ...report.peers[0]!.flows[0]!, nackedTooOld: 6, nackedOversized: 2, nackShed: 4096 };
  report.bc = { ...report.bc!, nackedTooOld: 0, nackedOversized: 9 };
  const { registry, dispose } = buildRegistry({ report: () => report, observers: new Observers() }, () => report, 'master');
  t.teardown(dispose);
  const m = parseExposition(await registry.metrics());
  t.equal(m.types.get('pdsm_nacked_too_old_total'), 'counter', 'pdsm_nacked_too_old_total is a counter');
  t.equal(m.types.get('pdsm_nacked_oversized_total'), 'counter', 'pdsm_nacked_oversized_total is a counter');
  t.equal(m.get('pdsm_nacked_too_old_total', { peer: '0', flow: 'mo', direction: 'out' }), 6, 'remote 0 MO: 6 too old');
  t.equal(m.get('pdsm_nacked_oversized_total', { peer: '0', flow: 'mo', direction: 'out' }), 2, 'remote 0 MO: 2 oversized');
  t.equal(m.get('pdsm_nacked_oversized_total', { peer: 'all', flow: 'bc', direction: 'out' }), 9, 'BC: 9 oversized');
  t.equal(m.get('pdsm_nack_shed_total', { peer: '0', flow: 'mo', direction: 'out' }), 4096, 'remote 0 MO: 4096 shed');
  t.equal(m.get('pdsm_nacked_too_old_total', { peer: '0', flow: 'ro', direction: 'in' }), undefined, 'no series for an incoming flow');
});

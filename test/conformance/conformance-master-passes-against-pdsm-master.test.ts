// pdsm conformance master against our own pdsm_master (spec Appendix C): every case runs
// and passes (unsealed) but those that need a PSK or BC, and with a PSK every case passes or
// says why it cannot run sealed.
import t from 'tap';
import { attachMaster } from '../../src/index.js';
import { MASTER_CASES } from '../../src/conformance/cases.js';
import { runConformance, startMasterUnderTest } from '../fixtures/conformance.js';

const ids = MASTER_CASES.map((c) => c.id);
/** Cases that need a PSK, or a master with BC (test/conformance/session-mtu-kept-with-bc.test.ts runs that one). */
const UNSEALED_SKIPS = ['bc-repair-fits-session-mtu', 'wrong-key-dropped', 'replay-dropped', 'older-hello-dropped', 'welcome-new-salt'];

t.test('unsealed, with the registry folder: every case passes but those that need a PSK or BC, exit 0', async (t) => {
  const m = await startMasterUnderTest();
  t.teardown(() => m.stop());
  // Something to replicate in slice 0 (the tool's client), so the segment case compares words, not zeros.
  const node = attachMaster({ registryDir: m.place.dir });
  node.moSlice(0).forEach((_, i, b) => (b[i] = (i * 7 + 3) & 0xff));
  node.detach();
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(m.place.port), '-d', m.place.dir]);
  t.equal(r.status, 0, `exit 0\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts.keys()], ids, 'one line per case, in order');
  t.same(
    [...r.verdicts].filter(([, v]) => v !== 'pass'),
    UNSEALED_SKIPS.map((id) => [id, 'skip']),
    'no case failed; only those that need a PSK or BC skipped',
  );
  const passed = ids.length - UNSEALED_SKIPS.length;
  t.match(r.stdout, new RegExp(`^${ids.length} cases: ${passed} passed, 0 failed, ${UNSEALED_SKIPS.length} skipped$`, 'm'), 'the summary line');
  t.equal(m.master.child.exitCode, null, 'the master survived the run');
});

t.test('sealed (--psk-file): no case fails; only those that need unsealed datagrams (or -d) skip', async (t) => {
  const m = await startMasterUnderTest({ psk: true });
  t.teardown(() => m.stop());
  const r = await runConformance(['master', '--host', '127.0.0.1', '--port', String(m.place.port), '--psk-file', m.keyFile!]);
  t.equal(r.status, 0, `exit 0\n${r.stdout}${r.stderr}`);
  t.match(r.stdout, /\(sealed\)/, 'the run says it is sealed');
  t.same([...r.verdicts.keys()], ids, 'one line per case, in order');
  const notPassed = [...r.verdicts].filter(([, v]) => v !== 'pass');
  t.same(notPassed, [
    ['check-order-client-id-before-sizes', 'skip'],
    ['malformed-hello-no-answer', 'skip'],
    ['not-joined-answered', 'skip'],
    ['first-batch-matches-segment', 'skip'],
    ['bc-repair-fits-session-mtu', 'skip'],
    ['ro-full-batch-applied', 'skip'],
    ['ro-mixed-batch-id-not-applied', 'skip'],
  ]);
});

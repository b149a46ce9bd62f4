// pdsm conformance remote against our own pdsm_remote (spec Appendix C): the tool plays the
// master on a loopback port the remote was started pointing at. Unsealed with the registry
// folder every case runs and passes but those that need a PSK; sealed, every case passes
// but the one a PSK makes destructive, and the last one stops the remote for good (§4.3).
import t from 'tap';
import { REMOTE_CASES } from '../../src/conformance/cases.js';
import { runConformance, startRemoteUnderTest } from '../fixtures/conformance.js';

const ids = REMOTE_CASES.map((c) => c.id);
const NEED_PSK = ['wrong-key-dropped', 'replay-dropped', 'replay-window-far-edge', 'sealed-config-reject-final'];

t.test('unsealed, with the registry folder: every case passes (the PSK-only ones skip), exit 0', async (t) => {
  const r0 = await startRemoteUnderTest();
  t.teardown(() => r0.stop());
  const r = await runConformance(['remote', '--master-port', String(r0.masterPort), '-d', r0.place.dir]);
  t.equal(r.status, 0, `exit 0\n${r.stdout}${r.stderr}`);
  t.same([...r.verdicts.keys()], ids, 'one line per case, in order');
  t.same(
    [...r.verdicts].filter(([, v]) => v !== 'pass'),
    NEED_PSK.map((id) => [id, 'skip']),
    'only the cases that need a PSK skip',
  );
  t.match(r.stdout, new RegExp(`^${ids.length} cases: ${ids.length - NEED_PSK.length} passed, 0 failed, ${NEED_PSK.length} skipped$`, 'm'), 'the summary line');
  t.match(r.stdout, /^\d+ requirements: \d+ passed, 0 failed, \d+ skipped$/m, 'the requirements summary line');
  t.equal(r0.remote.child.exitCode, null, 'the remote survived the run');
});

t.test('sealed (--psk-file), with the registry folder: every case passes but config-reject-keeps-trying; the last REJECT stops the remote', async (t) => {
  const r0 = await startRemoteUnderTest({ psk: true });
  t.teardown(() => r0.stop());
  const r = await runConformance(['remote', '--master-port', String(r0.masterPort), '--psk-file', r0.keyFile!, '-d', r0.place.dir]);
  t.equal(r.status, 0, `exit 0\n${r.stdout}${r.stderr}`);
  t.match(r.stdout, /\(sealed\)/, 'the run says it is sealed');
  t.same([...r.verdicts.keys()], ids, 'one line per case, in order');
  t.same(
    [...r.verdicts].filter(([, v]) => v !== 'pass'),
    [['config-reject-keeps-trying', 'skip']],
  );
  // spec §4.3: a sealed configuration REJECT (sealed-config-reject-final, the last case) ends a remote with a PSK: PDSM's exits 1.
  const how = await Promise.race([r0.remote.exited, new Promise((res) => setTimeout(() => res('still running after 5 s'), 5000))]);
  t.equal(how, 1, 'the sealed REJECT seg-size stopped the remote, exit 1');
});

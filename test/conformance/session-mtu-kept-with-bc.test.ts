// spec §4.2, §8.1: a master with BC keeps the shared BC stream within every session's MTU:
// `pdsm conformance master --only session-mtu-kept,bc-repair-fits-session-mtu` (HELLO MTU
// 576) passes against a pdsm_master started with -b, whose own --mtu (1200) is larger,
// unsealed and sealed: the FULL BC batch and the repair a BC NACK draws fit 576 bytes.
import t from 'tap';
import { runConformance, startMasterUnderTest } from '../fixtures/conformance.js';

for (const psk of [false, true]) {
  t.test(`${psk ? 'sealed' : 'unsealed'}, with -b: session-mtu-kept and bc-repair-fits-session-mtu pass`, async (t) => {
    const m = await startMasterUnderTest({ psk, args: ['-b', '16384'] });
    t.teardown(() => m.stop());
    const r = await runConformance([
      'master',
      '--host',
      '127.0.0.1',
      '--port',
      String(m.place.port),
      '--only',
      'session-mtu-kept,bc-repair-fits-session-mtu',
      ...(m.keyFile === undefined ? [] : ['--psk-file', m.keyFile]),
    ]);
    t.equal(r.verdicts.get('session-mtu-kept'), 'pass', `${r.stdout}${r.stderr}`);
    t.equal(r.verdicts.get('bc-repair-fits-session-mtu'), 'pass', `${r.stdout}${r.stderr}`);
    t.equal(r.status, 0, 'exit 0');
  });
}

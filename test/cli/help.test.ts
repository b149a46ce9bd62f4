import t from 'tap';
import { MASTER_HELP, MASTER_SPEC } from '../../src/cli/pdsm-master.js';
import { REMOTE_HELP, REMOTE_SPEC } from '../../src/cli/pdsm-remote.js';
import { BIN, runBin } from '../fixtures/daemon.js';

for (const [tool, bin, help, spec] of [
  ['pdsm_master', BIN.master, MASTER_HELP, MASTER_SPEC],
  ['pdsm_remote', BIN.remote, REMOTE_HELP, REMOTE_SPEC],
] as const) {
  t.test(`${tool} -h prints the help screen and exits 0`, async (t) => {
    const r = runBin(bin, ['-h']);
    t.equal(r.status, 0);
    t.equal(r.stdout, help);
  });

  t.test(`${tool}'s help lists every option of its table`, async (t) => {
    for (const option of Object.keys(spec)) {
      const pattern = option.length === 2 ? new RegExp(`(^|[\\s\\[])${option}[\\s,]`, 'm') : new RegExp(`${option}\\b`);
      t.match(help, pattern, `help mentions ${option}`);
    }
  });
}

t.test('the seed options come first in each usage line', async (t) => {
  t.match(MASTER_HELP, /^Usage: pdsm_master \[-h\] \[-r\] \[-p number\] \[-s size\] \[-g config_file\] \[-y 6\]/);
  t.match(REMOTE_HELP, /^Usage: pdsm_remote \[-h\] \[-H master_hostname\] \[-n client_id\] \[-s size\] \[-r\] \[-y 6\]/);
});

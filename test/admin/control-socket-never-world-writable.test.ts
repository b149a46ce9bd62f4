import t from 'tap';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';
import { freeUdpPort } from '../fixtures/cluster.js';

t.test("the control socket has the segments' mode without the world-write bit", async (t) => {
  for (const [mode, expected] of [
    ['0666', 0o664],
    ['0660', 0o660],
    ['0602', 0o600],
    ['0777', 0o775],
  ] as const) {
    const place = testPlace();
    const master = startDaemon(BIN.master, [...place.args, '-p', '1', '-P', String(await freeUdpPort()), '-L', '127.0.0.1', '--mode', mode]);
    try {
      await master.waitFor(/running/);
      const st = lstatSync(join(place.dir, 'pdsm_master.sock'));
      t.ok(st.isSocket(), 'a UNIX socket beside the registry file');
      t.equal(st.mode & 0o777, expected, `--mode ${mode} gives 0${expected.toString(8)}`);
      t.equal(st.mode & 0o002, 0, 'never world-writable');
      t.match(master.stderr(), new RegExp(`control socket path=\\S+pdsm_master\\.sock mode=0${expected.toString(8)}`), 'logged with its mode');
    } finally {
      await master.stop('SIGTERM');
      place.cleanup();
    }
  }
});

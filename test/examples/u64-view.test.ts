import t from 'tap';
import { attachRemote, u64View } from '../../src/index.js';
import { BIN, startDaemon, testPlace } from '../fixtures/daemon.js';

t.test('a u64 view stores what Buffer reads, and reads as empty after detach', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const d = startDaemon(BIN.remote, [...place.args, '-n', '0', '-H', '127.0.0.1']);
  t.teardown(() => d.stop('SIGKILL'));
  await d.waitFor(/running/);
  const node = attachRemote({ registryDir: place.dir, clientId: 0 });
  const ro = u64View(node.ro);
  t.equal(ro.length, node.ro.length / 8);
  ro[3] = 0x0102030405060708n;
  t.equal(node.ro.readBigUInt64LE(24), 0x0102030405060708n, 'native order (little-endian here)');
  node.detach();
  t.equal(ro.length, 0, 'empty after detach, never dangling');
  t.throws(() => u64View(Buffer.alloc(16).subarray(3)), { code: 'PDSM_ERR_RANGE' });
});

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { statusJson } from '../fixtures/admin.js';
import { PY_DIR, makeLib, missing, missingAny } from '../fixtures/clients.js';

// -i 60000: nothing a periodic scan would send can arrive during the test, so what arrives
// was sent by the libraries' flush.
t.test('pdsm_flush in C sends a stored value before the interval', { skip: missingAny('cc', 'make') }, async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 60_000 });
  t.teardown(() => c.destroy());
  const exe = join(makeLib(join(c.place.dir, 'build'), ['tests']), 'flush_value');
  const m = c.attachMaster();
  const r = c.attachRemote(0);
  t.ok(await eventually(() => r.status('mo').batches >= 1n && m.status('ro', 0).batches >= 1n), 'the join batches arrived');

  const ro = spawnSync(exe, [c.place.dir, 'remote', '0', '0x1234'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(ro.status, 0, `flush_value remote exits 0: ${ro.stdout}${ro.stderr}`);
  t.match(ro.stdout, /^PDSM_OK/, 'pdsm_flush returned PDSM_OK');
  t.ok(await eventually(() => m.roSlice(0).readBigUInt64LE(0) === 0x1234n), 'the master sees the RO value');

  const mo = spawnSync(exe, [c.place.dir, 'master', '0', '0x5678'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(mo.status, 0, `flush_value master exits 0: ${mo.stdout}${mo.stderr}`);
  t.ok(await eventually(() => r.mo.readBigUInt64LE(0) === 0x5678n), 'the remote sees the MO value');
  t.equal(statusJson(c.place.dir).scans, 0, 'the master ran no periodic scan');
  t.equal(statusJson(c.place.dir, 0).scans, 0, 'nor the remote');

  await c.master.stop('SIGTERM', 3000);
  const gone = spawnSync(exe, [c.place.dir, 'master', '0', '1'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(gone.status, 1, 'without the master flush_value exits 1');
  t.match(gone.stdout, `PDSM_ERR_DAEMON`, 'with PDSM_ERR_DAEMON');
  t.match(gone.stdout, `no daemon answers on ${join(c.place.dir, 'pdsm_master.sock')}`, 'naming the socket');
});

t.test("the Python package's flush() sends a stored value before the interval", { skip: missing('python3') }, async (t) => {
  const c = await startCluster({ remotes: 1, intervalMs: 60_000, masterArgs: ['-b', '4096'] });
  t.teardown(() => c.destroy());
  const r = c.attachRemote(0);
  t.ok(await eventually(() => r.status('mo').batches >= 1n && r.status('bc').batches >= 1n), 'the join batches arrived');
  const script = [
    'import json, sys, pdsm',
    'm = pdsm.open_master(sys.argv[1])',
    'm.slice("mo", 0).cast("Q")[1] = 0xabc',
    'm.bc.cast("Q")[2] = 0xdef',
    'print(json.dumps([m.flush("mo", 0), m.flush("bc"), m.flush()]))',
    'm.close()',
  ].join('\n');
  const py = spawnSync('python3', ['-c', script, c.place.dir], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, PYTHONPATH: join(PY_DIR, 'src'), PYTHONDONTWRITEBYTECODE: '1' },
  });
  t.equal(py.status, 0, `python exits 0: ${py.stderr}`);
  t.same(
    JSON.parse(py.stdout),
    [
      [{ flow: 'mo', client: 0, outcome: 'sent', pages: 1 }],
      [{ flow: 'bc', outcome: 'sent', pages: 1 }],
      [
        { flow: 'mo', client: 0, outcome: 'unchanged', pages: 0 },
        { flow: 'bc', outcome: 'unchanged', pages: 0 },
      ],
    ],
    'flush() returns what each flow sent',
  );
  t.ok(await eventually(() => r.mo.readBigUInt64LE(8) === 0xabcn && r.bc!.readBigUInt64LE(16) === 0xdefn), 'the remote sees both values');
  t.equal(statusJson(c.place.dir).scans, 0, 'the master ran no periodic scan');
});

// src/daemon/state-file.ts in process: one live owner at a time, dead owners and their
// stale locks taken over, and an epoch rule (spec §7.1) that never repeats an epoch.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateState, readState } from '../../src/daemon/state-file.js';

function place(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdsm-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'pdsm_master_registry.state');
}

/** A live process whose command line says "pdsm", as a daemon's does. */
function liveDaemonPid(t: Test): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'pdsm-decoy'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  return child.pid!;
}

/** A pid that no process has: a child that already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

t.test('a live owner keeps the node; a dead one is taken over with its epoch kept', async (t) => {
  const path = place(t);
  const other = liveDaemonPid(t);
  const held = PrivateState.claim(path, 'pdsm_master', other);
  held.nextEpoch(1_800_000_000);
  t.equal(statSync(path).mode & 0o777, 0o600, 'the file is 0600');
  t.throws(() => PrivateState.claim(path, 'pdsm_master'), { code: 'PDSM_ERR_ALREADY_RUNNING', message: `pdsm_master is already running (pid ${other})` });
  t.equal(PrivateState.liveOwner(path), other, '-r sees the live owner');

  writeFileSync(path, readFileSync(path, 'latin1').replace(`pid ${other}`, `pid ${await deadPid()}`), { mode: 0o600 });
  t.equal(PrivateState.liveOwner(path), 0, 'a dead owner does not stop -r');
  const mine = PrivateState.claim(path, 'pdsm_master');
  t.equal(mine.epoch, 1_800_000_000, 'the epoch history came along');
  t.equal(readState(path).pid, process.pid);
  mine.release();
  t.same(readState(path), { pid: 0, epoch: 1_800_000_000, startedNs: 0n }, 'release keeps the epoch and clears the owner');
});

t.test('a lock left by a dead claimant is taken over; one held by a live daemon stops the claim', async (t) => {
  const path = place(t);
  writeFileSync(`${path}.lock`, `${await deadPid()}\n`, { mode: 0o600 });
  PrivateState.claim(path, 'pdsm_master').release();
  t.throws(() => statSync(`${path}.lock`), 'the stale lock is gone');

  const other = liveDaemonPid(t);
  writeFileSync(`${path}.lock`, `${other}\n`, { mode: 0o600 });
  t.throws(() => PrivateState.claim(path, 'pdsm_master'), {
    code: 'PDSM_ERR_ALREADY_RUNNING',
    message: new RegExp(`another daemon \\(pid ${other}\\) is claiming the same segments`),
  });
});

t.test('the epoch is the Unix second, or one more than the last when that is not later; never 0; recorded at once', async (t) => {
  const path = place(t);
  const s = PrivateState.claim(path, 'pdsm_master');
  t.teardown(() => s.release());
  t.equal(s.nextEpoch(1_800_000_000), 1_800_000_000, 'the clock, the first time');
  t.equal(s.nextEpoch(1_800_000_000), 1_800_000_001, 'the same second again: last + 1');
  t.equal(s.nextEpoch(1_700_000_000), 1_800_000_002, 'the clock stepped back: last + 1');
  t.equal(s.nextEpoch(1_800_000_100), 1_800_000_100, 'the clock ahead again: the clock');
  t.equal(readState(path).epoch, 1_800_000_100, 'each one is in the file before it is used');
  writeFileSync(path, `pid ${process.pid}\nepoch ${0xffffffff}\n`, { mode: 0o600 });
  const wrapped = PrivateState.claim(path, 'pdsm_master');
  t.equal(wrapped.nextEpoch(0xffffffff), 1, 'after 0xffffffff in the same second comes 1, never 0');
});

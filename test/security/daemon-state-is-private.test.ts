// Issue 19, finding 3 and "Daemon state is private": the epoch and the owner record live in
// a file only the daemon's user can write, not in ST, which --mode 0666 opens to every user.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { masterKeys, masterStRecords, stOwnerOffset, stSegmentSize } from '../../src/segments/layout.js';
import { Segment } from '../../src/segments/segment.js';
import { BIN, runBin, startDaemon, testPlace, type TestPlace } from '../fixtures/daemon.js';

const STATE = 'pdsm_master_registry.state';

/** Start a master of one remote, read its epoch from the "listening" line, stop it. */
async function masterEpoch(t: Test, place: TestPlace): Promise<number> {
  const d = startDaemon(BIN.master, [...place.args, '-L', '127.0.0.1', '-p', '1']);
  t.teardown(() => d.stop('SIGKILL'));
  await d.waitFor(/running/);
  const m = /listening .*epoch=(\d+)/.exec(d.stderr());
  await d.stop('SIGTERM');
  if (!m) throw new Error(`no epoch in the master's log:\n${d.stderr()}`);
  return Number(m[1]);
}

/** What a local user can do to ST under --mode 0666: write the owner record's pid and epoch. */
function writeStOwner(place: TestPlace, pid: number, epoch: number): void {
  const records = masterStRecords(1).count;
  const st = Segment.open(masterKeys(place.keyBase).ST, stSegmentSize(records), { create: false, label: 'ST' });
  try {
    const u32 = new Uint32Array(st.buffer.buffer, st.buffer.byteOffset + stOwnerOffset(records), 2);
    u32[0] = pid;
    u32[1] = epoch;
  } finally {
    st.detach();
  }
}

/** A live process whose command line says "pdsm", as a daemon's does (what the old check took for an owner). */
function decoy(t: Test): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'pdsm-decoy'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  if (child.pid === undefined) throw new Error('could not spawn the decoy');
  return child.pid;
}

t.test("a local writer of ST's epoch and owner slots neither picks the next epoch nor makes start or -r refuse", async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  const first = await masterEpoch(t, place);
  const chosen = (first + 100_000) >>> 0;
  const fake = decoy(t);
  writeStOwner(place, fake, chosen);

  const second = await masterEpoch(t, place);
  t.not(second, (chosen + 1) >>> 0, 'the epoch was not taken from ST');
  t.ok(((second - first) | 0) > 0 && second - first < 1000, `the next epoch follows the last one used (${first} then ${second})`);

  writeStOwner(place, fake, chosen);
  const removal = runBin(BIN.master, [...place.args, '-p', '1', '-r']);
  t.equal(removal.status, 0, `-r is not stopped by a fake owner in ST: ${removal.stderr}`);
  t.notMatch(removal.stderr, /is running/);
});

t.test('the epoch history outlives -r: a restart right after it never repeats an epoch', async (t) => {
  const place = testPlace();
  t.teardown(() => place.cleanup());
  // The daemon's own history says it already went far ahead (its clock was set back since).
  const ahead = Math.floor(Date.now() / 1000) + 100_000;
  writeFileSync(join(place.dir, STATE), `pid 0\nepoch ${ahead}\nstarted_ns 0\n`, { mode: 0o600 });
  const first = await masterEpoch(t, place);
  t.equal(first, ahead + 1, 'the first epoch follows the recorded one');
  const removal = runBin(BIN.master, [...place.args, '-p', '1', '-r']);
  t.equal(removal.status, 0, removal.stderr);
  t.match(readFileSync(join(place.dir, STATE), 'latin1'), new RegExp(`^epoch ${first}$`, 'm'), '-r left the state file and its epoch');
  t.equal(await masterEpoch(t, place), ahead + 2, 'the epoch after -r is still a new one');
  t.equal(lstatSync(join(place.dir, STATE)).mode & 0o777, 0o600, 'the state file is 0600');
});

const refusals: { name: string; make: (path: string) => void; why: RegExp; skip?: string }[] = [
  {
    name: 'a symbolic link',
    make: (path) => {
      writeFileSync(`${path}.target`, 'pid 0\nepoch 1\n', { mode: 0o600 });
      symlinkSync(`${path}.target`, path);
    },
    why: /is a symbolic link \(owner uid \d+, mode 0777\)/,
  },
  {
    name: 'group-writable',
    make: (path) => {
      writeFileSync(path, 'pid 0\nepoch 1\n');
      chmodSync(path, 0o620);
    },
    why: /writable by group or others \(owner uid \d+, mode 0620\)/,
  },
  {
    name: 'world-writable',
    make: (path) => {
      writeFileSync(path, 'pid 0\nepoch 1\n');
      chmodSync(path, 0o606);
    },
    why: /writable by group or others \(owner uid \d+, mode 0606\)/,
  },
  {
    name: "another user's",
    make: (path) => {
      writeFileSync(path, 'pid 0\nepoch 1\n', { mode: 0o600 });
      chownSync(path, 65534, 65534);
    },
    why: /is owned by uid 65534, not by this daemon's user \(uid 0; mode 0600\)/,
    ...(process.geteuid?.() === 0 ? {} : { skip: 'needs root to give the file to nobody' }),
  },
];

for (const r of refusals) {
  t.test(`a state file that is ${r.name} stops the daemon naming it, before any segment is made`, r.skip ? { skip: r.skip } : {}, async (t) => {
    const place = testPlace();
    t.teardown(() => place.cleanup());
    const path = join(place.dir, STATE);
    r.make(path);
    const run = runBin(BIN.master, [...place.args, '-L', '127.0.0.1', '-p', '1']);
    t.equal(run.status, 1, run.stderr);
    t.match(run.stderr, `daemon state file ${path}`);
    t.match(run.stderr, r.why);
    t.throws(() => Segment.open(masterKeys(place.keyBase).ST, 4096, { create: false, label: 'ST' }), 'no ST was created');
    const removal = runBin(BIN.master, [...place.args, '-p', '1', '-r']);
    t.equal(removal.status, 1, '-r refuses it too');
    t.match(removal.stderr, r.why);
  });
}

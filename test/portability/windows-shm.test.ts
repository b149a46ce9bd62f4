import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';
import { native } from '../../src/segments/native.js';
import { win32, type Platform } from '../fixtures/portability/platforms.js';
import { answer as answerFile, exitOf, startOn, type Proc } from '../fixtures/portability/processes.js';

// The addon cross-built for win32-x64 (npm run build:win), loaded by node.exe under Wine:
// segments are named file mappings (native/shm_win.cc). Two Windows processes share one by
// key, values go both ways, and the native argument checks and errors hold there too.
const win = win32();
const SCRIPT = join(ROOT, 'test/fixtures/portability/win-shm.mjs');
type Json = Record<string, unknown>;

/** A key no earlier run left behind (the Wine prefix outlives runs). */
function freshKey(): number {
  return (0x5d000000 + ((process.pid * 7919 + Date.now()) % 0xffffff)) >>> 0;
}

/** Start a win-shm.mjs mode under Wine; its console output goes to a log file in `dir`. */
function run(w: Platform, mode: string, key: number, dir: string): Proc {
  return startOn(w, SCRIPT, [mode, String(key), w.path(dir)], { logFile: join(dir, `${mode}.log`) });
}

/** The JSON file `name` in `dir` once it exists; fails with what the process said otherwise. */
async function answer(dir: string, name: string, proc: Proc, timeoutMs: number): Promise<Json> {
  return answerFile(dir, name, `${proc.child.spawnargs.at(-3)}-error.json`, proc, timeoutMs);
}

const sharedKey = freshKey();

if (typeof win === 'string') {
  t.test('Windows segments under Wine', { skip: win }, () => {});
} else {
  t.test('two node.exe processes share a named file mapping by key: values written by one are read by the other, and its write-back is seen', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pdsm-win-'));
    const key = sharedKey;
    const procs: Proc[] = [];
    t.teardown(async () => {
      for (const p of procs) await p.stop('SIGKILL', 1000);
      rmSync(dir, { recursive: true, force: true });
    });
    const a = run(win, 'create', key, dir);
    procs.push(a);
    const ready = await answer(dir, 'a-ready.json', a, win.startMs);
    // The first page as the creator wrote it, hashed by this host's own build of the addon:
    // the cross-built xxHash (mingw, x86 dispatch) gives the same numbers.
    const page = Buffer.alloc(8192);
    page.writeUInt32LE(0x0a0b0c0d, 0);
    page.writeBigUInt64LE(0x1122334455667788n, 8);
    page.write('hello', 16);
    const pages = new BigUint64Array(2);
    native.hashPagesXxh3(page, 4096, 7n, pages);
    t.same(
      { hash: ready.hash, xxh3: ready.xxh3, pagesXxh3: ready.pagesXxh3 },
      { hash: String(native.xxh64(page.subarray(0, 4096), 0n)), xxh3: String(native.xxh3(page.subarray(0, 4096), 7n)), pagesXxh3: [...pages].map(String) },
      "XXH64 and XXH3-64 on Windows equal the host build's",
    );
    t.match(
      ready.stat,
      { size: 65536, attached: 1, creatorPid: ready.pid, mode: 0o600 },
      'the creator sees its mapping: exact size, one view, itself as creator, the mode asked',
    );

    const b = run(win, 'attach', key, dir);
    procs.push(b);
    const done = await answer(dir, 'b-done.json', b, win.startMs);
    t.equal(await exitOf(b, 30_000), 0, 'the attaching process exits cleanly');
    t.not(done.pid, ready.pid, 'two different Windows processes');
    t.same(
      done.read,
      { u32: 0x0a0b0c0d, u64: String(0x1122334455667788n), text: 'hello', hash: ready.hash },
      'the other process reads the values and the same page hash',
    );
    t.match(
      done.stat,
      { size: 65536, attached: 0, creatorPid: 0, mode: 0 },
      'opened by key: the exact size; no views yet; creator and mode unknown to an opener',
    );
    t.equal(done.sameId, done.id, 'a second get() of the same key in one process gives the same id');
    t.match(
      done.exclusive,
      { thrown: true, code: 'EEXIST', winCode: 'ERROR_ALREADY_EXISTS', errno: 183, syscall: 'CreateFileMappingW' },
      'an exclusive create of an existing mapping fails with EEXIST',
    );
    t.match(
      done.tooLarge,
      { thrown: true, code: 'EINVAL', syscall: 'OpenFileMappingW' },
      'opening with a larger size than the mapping fails with EINVAL, as shmget does',
    );
    t.equal(done.readOnlyLength, 65536, 'a read-only view spans the mapping');

    const result = await answer(dir, 'a-result.json', a, win.startMs);
    t.equal(await exitOf(a, 30_000), 0, 'the creating process exits cleanly');
    t.equal(result.sawOther, true, 'the creator saw the other side finish');
    t.equal(result.writtenBack, 0xcafebabe, 'the creator reads the value the other process wrote back');
    t.match(result.afterDetach, { byteLength: 0, attached: false, stat: { attached: 0 } }, 'detach empties the buffer and drops the view');
    t.match(result.removeAgain, { thrown: true, code: 'EINVAL', winCode: 'ERROR_INVALID_HANDLE' }, 'after remove the id is invalid');
  });

  t.test('the native argument checks and errors hold on Windows; Global\\ is another namespace; a mapping is gone with its last handle', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pdsm-win-'));
    const key = freshKey() ^ 0x00800000;
    const p = run(win, 'checks', key, dir);
    t.teardown(async () => {
      await p.stop('SIGKILL', 1000);
      rmSync(dir, { recursive: true, force: true });
    });
    const c = await answer(dir, 'checks.json', p, win.startMs);
    t.equal(await exitOf(p, 30_000), 0, 'exits cleanly');
    const type = { thrown: true, name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
    const range = { thrown: true, name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
    t.match(c.keyType, { ...type, message: /"key" argument must be of type number/ });
    t.match(c.keyRange, { ...range, message: /"key" is out of range/ });
    t.match(c.keyFraction, range);
    t.match(c.modeRange, { ...range, message: /"mode"/ });
    t.match(c.createType, { ...type, message: /"create"/ });
    t.match(c.globalType, { ...type, message: /"global"/ });
    t.match(c.idType, { ...type, message: /"id"/ });
    t.match(c.idRange, range);
    t.match(c.readOnlyType, { ...type, message: /"readOnly"/ });
    t.match(c.hashType, { ...type, message: /"data"/ });
    t.match(c.seedRange, { ...range, message: /"seed"/ });
    t.match(c.pageMultiple, { ...range, message: /multiple of pageSize/ });
    for (const k of ['unknownId', 'unknownAttach', 'unknownRemove'] as const) {
      t.match(
        c[k],
        { thrown: true, name: 'Error', code: 'EINVAL', winCode: 'ERROR_INVALID_HANDLE', errno: 6 },
        `${k}: an id this process never opened is EINVAL`,
      );
    }
    t.match(c.zeroSize, { thrown: true, code: 'EINVAL', syscall: 'CreateFileMappingW' }, 'a zero-size mapping cannot be created');
    t.match(
      c.missing,
      {
        thrown: true,
        code: 'ENOENT',
        winCode: 'ERROR_FILE_NOT_FOUND',
        syscall: 'OpenFileMappingW',
        message: /^OpenFileMappingW ENOENT: .*\(ERROR_FILE_NOT_FOUND 2\)$/,
      },
      'a missing mapping is ENOENT, with the Win32 error named',
    );
    t.match(c.globalNotLocal, { thrown: true, code: 'ENOENT' }, 'a Global\\ mapping is not found under Local\\');
    t.equal(c.globalAgain, true, 'and is found again under Global\\');

    // Both processes of the first test removed their ids and exited: with the last handle and
    // view closed, Windows destroyed the mapping, so its name is free again.
    const probe = run(win, 'probe', sharedKey, dir);
    const gone = await answer(dir, 'probe.json', probe, win.startMs);
    t.equal(await exitOf(probe, 30_000), 0, 'the probe exits cleanly');
    t.match(gone, { thrown: true, code: 'ENOENT' }, "the first test's mapping is gone once its last handle and view are closed");
  });
}

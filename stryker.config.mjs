// Mutation testing of the protocol core (issue 18; docs/testing.md says how to read it).
//
//   npm run test:mutation                                  every module below
//   npm run test:mutation -- --mutate src/udp/serial.ts    one module (comma-separate several)
//
// Each module runs only the test files that exercise it (MODULES below), so a run over one
// module is short. The tests that spawn daemons run dist/, which Stryker does not mutate:
// they could never kill a mutant and are left out. Reports go to reports/mutation/.
// All test files of a run share one process per mutant (test/fixtures/mutation-run.ts), which
// makes a run several times faster; PDSM_MUTATION_PER_FILE=1 runs them one process per file,
// so the report says which file killed each mutant.
//
// Equivalent mutants (a change that cannot alter behaviour) are listed in EQUIVALENT below,
// one reason each, and still counted as survivors: nothing is excluded from the score, and
// the sources carry no `// Stryker disable` comments.

import { readdirSync } from 'node:fs';
import { posix } from 'node:path';

/** The codec's own tests; the 120,000-round fuzz is left out (it kills nothing the others miss, at 10x their time). */
const CODEC_TESTS = [
  'test/udp/decode-*.test.ts',
  'test/udp/encode-*.test.ts',
  'test/udp/random-messages-round-trip.test.ts',
  'test/udp/vectors-decode-and-reencode.test.ts',
  'test/udp/data-*.test.ts',
  'test/udp/header-*.test.ts',
  'test/udp/control-*.test.ts',
  'test/udp/codec-*.test.ts',
];

/**
 * The tests that drive a FlowReceiver directly, with hand-made datagrams. The flow-pair tests
 * (converges-under-loss, replaces-lost-history, batch-bigger-than-old-window, and InFlow's
 * full-resync log) reach it too but cost several times more per mutant on the shared machine;
 * left out, the score is a lower bound.
 */
const SENDER_TESTS = [
  'test/reliability/sender-*.test.ts',
  'test/reliability/nack-repairs-*.test.ts',
  'test/reliability/replaces-lost-history.test.ts',
  'test/reliability/full-resync-logged-*.test.ts',
  'test/reliability/hostile-counts-bounded.test.ts',
];
const RECEIVER_TESTS = [
  'test/reliability/receiver-*.test.ts',
  'test/reliability/malformed-batch-resyncs.test.ts',
  'test/reliability/hostile-counts-bounded.test.ts',
];

/**
 * The session tests that drive a MasterSession (masterHarness): about 3 s a mutant in one
 * process, against 23 s for all of test/session/. The rest (remote-*, admission-*, peer-link-*,
 * timers-*, drop-reasons-*) never construct a master.
 */
const MASTER_SESSION_TESTS = [
  'test/session/master-*.test.ts',
  'test/session/flows-get-the-rtt-*.test.ts',
  'test/session/peer-state-names-*.test.ts',
  'test/session/reject-budget-*.test.ts',
  'test/session/unicast-fallback-*.test.ts',
  'test/session/version-2-*.test.ts',
];

/** Module -> the test files that check it. A module missing here runs UNIT_TESTS. */
const MODULES = {
  'src/udp/serial.ts': ['test/udp/serial-*.test.ts'],
  'src/udp/replay-window.ts': ['test/udp/replay-window-*.test.ts'],
  'src/segments/word-codec.ts': ['test/segments/word-codec-*.test.ts'],
  'src/segments/layout.ts': ['test/segments/layout-*.test.ts'],
  'src/udp/header.ts': CODEC_TESTS,
  'src/udp/codec.ts': CODEC_TESTS,
  'src/udp/data.ts': CODEC_TESTS,
  'src/udp/control.ts': CODEC_TESTS,
  'src/udp/seal.ts': ['test/udp/seal-*.test.ts', 'test/udp/vectors-decode-and-reencode.test.ts'],
  'src/segments/scanner.ts': ['test/segments/scanner-*.test.ts', 'test/segments/sliced-scan-*.test.ts'],
  // The sender and its repair queue: their direct tests and the flow-pair tests that NACK and
  // replace (a lower bound: converges-under-loss and the receiver tests reach them too).
  'src/reliability/sender.ts': SENDER_TESTS,
  'src/reliability/repairs.ts': SENDER_TESTS,
  'src/reliability/seq-ring.ts': ['test/reliability/seq-ring-*.test.ts', ...SENDER_TESTS],
  'src/reliability/receiver.ts': RECEIVER_TESTS,
  'src/reliability/batch-assembly.ts': ['test/reliability/*.test.ts'],
  // The session core: its own unit tests and the session tests (test/fixtures/session-harness.ts
  // drives master and remote sessions with fake flows and a fake clock; no daemon, no socket).
  'src/session/admission.ts': ['test/session/admission-*.test.ts'],
  // The small session modules run their direct tests only (a lower bound of the score: the
  // rest of test/session/ reaches them too, at several times the time per mutant).
  'src/session/link.ts': ['test/session/peer-link-*.test.ts', 'test/session/master-liveness-*.test.ts'],
  // timers.ts and states.ts: their direct tests, and the session tests that reach them through
  // the cores (the RTT echo of heartbeats, the HELLO back-off, the reported peer states).
  'src/session/timers.ts': [
    'test/session/timers-*.test.ts',
    'test/session/flows-get-the-rtt-*.test.ts',
    'test/session/peer-link-*.test.ts',
    'test/session/remote-session-states.test.ts',
  ],
  'src/session/states.ts': ['test/session/peer-state-names-*.test.ts', 'test/session/remote-session-states.test.ts'],
  // The BC stream: the session tests that start the master with one (withBc) or a group.
  'src/session/master-bc.ts': [
    'test/session/master-bc-*.test.ts',
    'test/session/master-cuts-bc-*.test.ts',
    'test/session/unicast-fallback-*.test.ts',
    'test/session/flows-get-the-rtt-*.test.ts',
    'test/session/version-2-*.test.ts',
  ],
  'src/session/reject-budget.ts': ['test/session/reject-budget-*.test.ts'],
  'src/session/multicast-fallback.ts': ['test/session/unicast-fallback-*.test.ts'],
  'src/session/master-session.ts': MASTER_SESSION_TESTS,
  // The remote's core: the session tests that drive a RemoteSession (remoteHarness); a lower
  // bound, at a fraction of all of test/session/ per mutant.
  'src/session/remote-session.ts': [
    'test/session/remote-*.test.ts',
    'test/session/flows-get-the-rtt-*.test.ts',
    'test/session/unicast-fallback-*.test.ts',
    'test/session/version-2-*.test.ts',
    'test/session/peer-state-names-*.test.ts',
  ],
};

/**
 * Mutants that survive because they cannot change behaviour. They are NOT excluded (the
 * score counts them as survivors); each is listed here with its reason, and docs/testing.md
 * repeats the list. file:line refers to the commit named in docs/testing.md.
 */
export const EQUIVALENT = [
  [
    'src/segments/word-codec.ts:17',
    'HOST_LITTLE_ENDIAN -> true',
    'on a little-endian host (x86, this machine) true is the right answer; a big-endian host kills it',
  ],
  ['src/udp/serial.ts:42', 'seqMax `>= 0` -> `> 0`', 'a distance of 0 means a === b, so either operand is the answer'],
  ['src/segments/word-codec.ts:32', '`bytes.byteLength === 0` -> false', 'swapping an empty buffer does nothing; the test only saves a call'],
  ['src/segments/word-codec.ts:58', '`src !== dst` -> true', 'copying an array onto itself leaves it as it was'],
  ['src/udp/replay-window.ts:19', '`size / 32` -> `size * 32`', 'a longer bitmap only holds ages >= size, which check() never reads'],
  ['src/udp/replay-window.ts:37', '`pn > highest` -> `>=` in accept()', 'check() already refused pn === highest: bit 0 is set by every accept'],
  ['src/udp/replay-window.ts:38', '`highest < 0 ? size : ...` -> the jump', 'before the first accept the bitmap is all zero, so any shift leaves it zero'],
  ['src/udp/replay-window.ts:55', '`by >= size` -> `by > size`', 'a shift by exactly size moves every word out through the loop, leaving zero as fill() does'],
  ['src/udp/replay-window.ts:61', 'loop from `words + 1`', 'writes past the end of a Uint32Array are ignored'],
  [
    'src/udp/seal.ts PskKeys.key',
    'the cache lookup `k === undefined` -> true, or the set() removed',
    'deriving the key again gives the same key: the cache only saves time',
  ],
  [
    'src/udp/replay-window.ts:63-64',
    '`src >= 0` / `src - 1 >= 0` -> true, `src + 1`',
    'a negative index of a Uint32Array reads undefined, which `?? 0` makes 0',
  ],
  [
    'src/reliability/batch-assembly.ts:68,69',
    '`this.#data.length === 0` -> false; `this.#page !== -1` -> true; `-1` -> `+1`',
    'an empty batch is refused by `this.#next === this.#pageSize` (0 !== page size) whatever these say',
  ],
  [
    'src/reliability/batch-assembly.ts:106',
    'the stamp wrap (`=== 0x1_0000_0000` and its `fill(0)`)',
    'reached after 2^32 - 1 batches of one receiver; a stale stamp could only collide with one that old',
  ],
  [
    'src/reliability/receiver.ts:172 (idle)',
    '`#held.size === 0` or `#assembly.length === 0` -> true, their `&&` -> `||`',
    'held DATA and the assembly lie in [expected, highest]: `highest + 1 === expected` already means both are empty',
  ],
  [
    'src/reliability/receiver.ts:219',
    '`seqLt(this.#replace.seq, this.#expected)` -> false',
    '#tryReplace then refuses that REPLACES COMMIT itself (its first seq is before the apply point); only the stale reference stays',
  ],
  [
    'src/reliability/receiver.ts:316',
    'the scan bound `#replaceScan < commit.dataCount` -> true or `<=`',
    'the scan then runs on past the batch while numbers are held; the next line only asks `< dataCount`, and a new REPLACES resets it',
  ],
  [
    'src/reliability/receiver.ts:312',
    '`first === this.#expected` return -> false',
    'nothing is obsolete then (obsolete = 0); the NACK timer it arms is the one #deliver arms next (unicast: the same time; multicast: one draw of the same delay) or cancels when nothing is missing',
  ],
  [
    'src/reliability/receiver.ts:319',
    '`obsolete > 0` -> true or `>= 0`',
    'the two returns before it leave first after the apply point, so obsolete is always > 0 here',
  ],
  [
    'src/reliability/receiver.ts:419,437',
    'the NACK loop bound `ranges.length <= MAX_NACK_RANGES` -> true; the cut `> MAX_NACK_RANGES` -> `>=`',
    'the loop is bounded by NACK_SCAN anyway and the line after it cuts the list to MAX_NACK_RANGES; cutting a list of exactly that length changes nothing',
  ],
  [
    'src/reliability/receiver.ts:438',
    '`ranges.length === 0` return -> false',
    'the NACK timer runs only while a number is missing, and scan_pos is then the first gap (the walk stops at one, a slice resumes at once), so the list is never empty',
  ],
  [
    'src/reliability/receiver.ts:465',
    'runs(): `last[0] + last[1] < p` -> `<=`',
    'equality is the branch just before it (the run grows); only a repeated page (less than the end) differs, and both forms skip it',
  ],
  [
    'src/reliability/sender.ts:269',
    'setMtu `chunk === this.#chunk` return -> false',
    'recounting the batches at the cut they already have gives the counts they have',
  ],
  [
    'src/reliability/sender.ts:286',
    '#dataLeft `pageIndex >= pages.length` -> false or `>`',
    'past the last page the offset is 0, so the formula gives ceil(P / c) - ceil(P / c) = 0 as the return does',
  ],
  ['src/reliability/sender.ts:323', 'progress `b.firstSeq === -1` -> false', 'a batch not begun has 0 bytes done, so its rate is 0 whatever the elapsed time'],
  ['src/reliability/sender.ts:426', 'pump `made > 0` -> true or `>= 0`', 'onSent of 0 datagrams takes no token and counts nothing'],
  [
    'src/reliability/sender.ts:593',
    '#replaceFrom `start < 0 && (...)`: the inner test -> true, `&&` -> `||`, `start <= 0`',
    "batch records are contiguous (each begins after the last one's COMMIT), so a number in no record is before the oldest: start < 0 already implies the inner test, and start >= 0 makes it false",
  ],
  [
    'src/reliability/sender.ts:599',
    '#replaceFrom queued pages `b.firstSeq === -1` -> true',
    'the batch under way is also the newest record, whose pages are in the set already',
  ],
  ['src/reliability/sender.ts:600', '#replaceFrom `pages.size === 0` return -> false', 'sendBatch returns at once for no pages'],
  ['src/reliability/repairs.ts:56', 'nackSpans `d > sent` -> `>=`', 'at d === sent the clip removes 0 numbers and sets d to what it is'],
  [
    'src/session/master-session.ts:198',
    'onTimeout: the duties not filtered by due()',
    'a duty not due has a later next than every due one, so the minimum is the same; with none due, late is negative and each due() below is false',
  ],
  ['src/session/master-session.ts:295', '#send `!s.link.validated` -> true', 'maySend() is true once validated, and the bytes counted then are never read'],
  [
    'src/udp/header.ts:140,142',
    'readHeader: `false` (big-endian) -> true in the zero checks of the packet number top and the epoch',
    'a value is zero in either byte order or in neither',
  ],
  [
    'src/udp/header.ts:232-234',
    "writeHeader's names 'magic', 'version', 'type'",
    'those fields are written from constants, which always fit: the names can never appear in an error',
  ],
  [
    'src/udp/header.ts:241-243',
    "writeHeader's 'packetNumber' names of the three writes",
    'checkInt has refused a packet number over 2^48 - 1 the line before, and the writes take 0 and the two halves of a valid one: they cannot fail',
  ],
  ['src/udp/data.ts:84', 'encodeData `new Writer(..., false)` -> true', 'a zeroed buffer instead of a pooled one: every byte is written after it'],
  [
    'src/udp/seal.ts:55',
    "COOKIE_LABEL 'pdsm v2 cookie' -> ''",
    'a cookie is local policy (spec §9.2): only the master that made it checks it, with the same label, so the label changes no outcome',
  ],
  ['src/udp/seal.ts:168,232', '`{ authTagLength: TAG_SIZE }` -> `{}`', "Node's ChaCha20-Poly1305 tag is 16 bytes (TAG_SIZE) by default"],
  [
    'src/udp/seal.ts:282',
    'openHandshake `!isHandshakeType(...)` return -> false',
    'the tag of any other type fails under a handshake key all the same: the check only saves the HKDF and the AEAD (spec §13)',
  ],
  [
    'src/udp/seal.ts:313,314',
    'addressBytes: the mapped-prefix strip -> false; `toLowerCase` -> `toUpperCase`',
    'an unstripped ::ffff:a.b.c.d is already the mapped form written for a.b.c.d; one case folding or the other gives one form per address',
  ],
  [
    'src/segments/scanner.ts:71',
    '`pageSize <= 0` -> `pageSize < 0`',
    'a page size of 0 (or -0) gives `length % 0` = NaN, refused by the other test with the same message',
  ],
  [
    'src/segments/scanner.ts:64',
    '`#forceAll = true` -> false',
    'the first scan compares with hashes of 0n, which no page hash is (p = 2^-64): every page is dirty anyway',
  ],
  [
    'src/segments/scanner.ts:256',
    'copy loop `k < end` -> `k <= end`',
    'the extra page is copied again by the next unit (which starts at end), or lies past the staged buffer',
  ],
  [
    'src/segments/scanner.ts:277',
    'commit loop `k < end` -> `k <= end`',
    'the extra page gets its staged copy and a 0n hash the next unit overwrites (sender held); past the end it writes nothing',
  ],
  ['src/session/master-bc.ts:99', 'smallest MTU `mtu < smallest` -> `<=`', 'on a tie the smallest is set to the value it already has'],
  ['src/session/master-bc.ts:153', 'slowest RTT `r > slowest` -> `>=`', 'on a tie the slowest is set to the value it already has'],
  [
    'src/session/remote-session.ts:102',
    'sameBytes `a.byteLength === b.byteLength` -> true',
    'it compares WELCOME NONCEs, which the decoder takes at exactly 16 bytes only',
  ],
  [
    'src/session/remote-session.ts:421',
    'the link `validated: true` -> false',
    'the remote never asks its link for validation or the amplification budget: #send goes to the io',
  ],
  [
    'src/session/remote-session.ts:209',
    'HELLO due `state === JOINING` -> true',
    'helloAt is Infinity when UP or CLOSED, and FAILED has no deadline (nextDeadline() is Infinity), so no timeout comes',
  ],
  ['src/session/remote-session.ts:214', 'scan `if (s) this.scanOnce()` -> true', 'scanOnce() returns at once without a session'],
  ['src/session/remote-session.ts:222', 'digest `this.#session === s` -> true', 'the only change of session before it, a loss at the heartbeat, returns first'],
  ['src/session/remote-session.ts:500', 'not-joined `if (this.#session)` -> true', '#lost returns at once when there is no session'],
];

/** Test files that import src/ directly and spawn no daemon. */
const UNIT_TESTS = ['test/udp/*.test.ts', 'test/segments/word-codec-*.test.ts', 'test/segments/layout-*.test.ts', 'test/reliability/*.test.ts'];

function mutateFromArgv() {
  const i = process.argv.findIndex((a) => a === '--mutate' || a === '-m' || a.startsWith('--mutate='));
  if (i < 0) return Object.keys(MODULES);
  const value = process.argv[i].includes('=') ? process.argv[i].split('=')[1] : process.argv[i + 1];
  return (value ?? '').split(',').filter(Boolean);
}

function testFilesFor(mutate) {
  const files = new Set();
  for (const m of mutate) for (const f of MODULES[m.replace(/^\.\//, '').replace(/:.*$/, '')] ?? UNIT_TESTS) files.add(f);
  return [...files];
}

/** Files matching `dir/name-with-*` patterns (one folder, `*` within the name): all this config uses. */
function expand(patterns) {
  const out = new Set();
  for (const p of patterns) {
    const dir = posix.dirname(p);
    const re = new RegExp(
      `^${posix
        .basename(p)
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')}$`,
    );
    for (const f of readdirSync(dir)) if (re.test(f)) out.add(posix.join(dir, f));
  }
  return [...out].sort();
}

const mutate = mutateFromArgv();
const patterns = testFilesFor(mutate);
const perFile = process.env.PDSM_MUTATION_PER_FILE === '1';
if (!perFile) process.env.PDSM_MUTATION_TESTS = JSON.stringify(expand(patterns));

// tap compiles the tests with ts-node; the type check is the checker's job, and the
// instrumented sources carry @ts-nocheck anyway. The test processes inherit this.
process.env.TS_NODE_TRANSPILE_ONLY = '1';

const concurrency = Number(process.env.PDSM_MUTATION_CONCURRENCY ?? 2);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: perFile ? patterns : ['test/fixtures/mutation-run.ts'],
    nodeArgs: ['--import', '@tapjs/typescript/import', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate,
  coverageAnalysis: 'perTest',
  // 2 cores shared with other work: two test processes at most (PDSM_MUTATION_CONCURRENCY=1 for one).
  concurrency,
  timeoutMS: 10000,
  timeoutFactor: 2,
  // .cache holds the portability toolchains (a Wine prefix whose dosdevices links Stryker cannot copy).
  ignorePatterns: ['dist', '.tap', 'coverage', 'reports', 'bench/results', '.stryker-tmp', '.cache', '.portability-js'],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 80, break: 80 },
};

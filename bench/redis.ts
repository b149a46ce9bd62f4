/**
 * Benchmark 4 of the issue, against Redis (what people use today for shared counters):
 * 64 writers updating 1,000 counters each, through a private redis-server on loopback
 * (pipelined INCRBY through ioredis, and a SET per round for the latency marker), against the same updates
 * as plain stores into a real pdsm_remote's RO segment, replicated to a real pdsm_master.
 *
 * Workload (the same for both): one helper process (bench/lib/writers.ts) runs the 64
 * writers as async loops; writer w updates its 1,000 counters once every PERIOD_MS,
 * staggered by w/64 of the period, for ROUNDS rounds (128,000 updates/s in all). Redis gets
 * one ioredis connection per writer and one pipeline per round; PDSM gets Buffer
 * read+writeBigUInt64LE into RO (64 x 8,000 bytes, then 64 marker words).
 *
 * Figures:
 * - writer-side cost: the synchronous loop of a round (pipeline + exec for Redis, the
 *   1,000 stores for PDSM) summed, per update; and the writer process's utime+stime per
 *   update (Redis: reply parsing included);
 * - store-to-visible: at the end of each round the writer publishes the monotonic time; the
 *   bench polls every ~1 ms (Redis: MGET of the 64 markers on its own connection; PDSM: the
 *   64 marker words of the master's RO slice 0) and takes now - stamp for each new marker;
 * - bytes per update: Redis: TCP payload written and read by the writers' sockets; PDSM:
 *   UDP payload of every datagram both daemons sent (PDSM_DEBUG=pdsm:udp `bytes=`),
 *   heartbeats included;
 * - total CPU: utime+stime from /proc/<pid>/stat of the writer process plus redis-server, or
 *   plus pdsm_remote and pdsm_master, from the go signal until every last marker was seen.
 * Baseline: the Redis row, measured in the same run. The bench installs redis-server with
 * apt-get when it is missing and this is root; otherwise the Redis row is skipped, saying why.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachMaster, type MasterNode } from '../src/index.js';
import { cpuSeconds, newPlace, onCleanup, sleep, spawnHelper, startMaster, startRemote, type Proc } from './lib/cluster.js';
import { connectRedis, ensureRedisServer, redisVersion, startRedis } from './lib/redis-server.js';
import { num, ratio, summarize, targetLine, type BenchResult, type Summary, type Table } from './lib/report.js';

const WRITERS = 64;
const COUNTERS = 1000;
const ROUNDS = Number(process.env['PDSM_BENCH_REDIS_ROUNDS'] ?? 16);
const PERIOD_MS = 500;
/** PDSM runs: the brief's Buffer stores at -i 10 and 100, and BigUint64Array stores at -i 100. */
const PDSM_RUNS: { intervalMs: number; mode: 'pdsm' | 'pdsm-view' }[] = [
  { intervalMs: 10, mode: 'pdsm' },
  { intervalMs: 100, mode: 'pdsm' },
  { intervalMs: 100, mode: 'pdsm-view' },
];
const MARKER_BASE = WRITERS * COUNTERS * 8;
const POLL_MS = 1;
const TRACE_ENV = { PDSM_DEBUG: 'pdsm:udp', DEBUG_COLORS: 'no' };

const nowNs = (): bigint => process.hrtime.bigint();
/** Same delta as bench/lib/writers.ts, to check the final counter values. */
const delta = (i: number, r: number): number => ((i * 7919 + r * 104729) % 100_000) + 1;
const expected = (i: number): bigint => {
  let s = 0n;
  for (let r = 0; r < ROUNDS; r++) s += BigInt(delta(i, r));
  return s;
};

interface WritersDone {
  updates: number;
  loopNs: number;
  late: number;
  errors: number;
  bytesWritten?: number;
  bytesRead?: number;
}

interface Run {
  system: string;
  intervalMs?: number;
  done: WritersDone;
  latencyMs: number[];
  markersMissed: number;
  summary: Summary;
  cpu: { writer: number; server: number; master?: number; remote?: number };
  wallSeconds: number;
  wire: { bytes: number; units: number; unit: string; detail: Record<string, { n: number; bytes: number }> };
  verified: string;
}

/**
 * Poll the 64 markers every ~POLL_MS until the writers are done and every writer's last
 * marker was seen (or `graceMs` after done); one latency sample per new marker value.
 */
async function pollMarkers(
  read: () => Promise<bigint[]> | bigint[],
  writers: Proc,
  graceMs: number,
): Promise<{ samples: number[]; seen: number; done: WritersDone }> {
  const last: bigint[] = (await read()).slice();
  const samples: number[] = [];
  let seen = 0;
  let done: WritersDone | undefined;
  let doneAt = 0;
  const deadline = Date.now() + ROUNDS * PERIOD_MS + 60_000;
  while (Date.now() < deadline) {
    const values = await read();
    const t = nowNs();
    values.forEach((v, w) => {
      if (v !== last[w]) {
        last[w] = v;
        seen++;
        samples.push(Number(t - v) / 1e6);
      }
    });
    if (!done) {
      const m = /^done (.*)$/m.exec(writers.stderr());
      if (m) {
        done = JSON.parse(m[1]!) as WritersDone;
        doneAt = Date.now();
      } else if (writers.child.exitCode !== null) {
        throw new Error(`writers exited with ${writers.child.exitCode}: ${writers.stderr().slice(-1500)}`);
      }
    }
    if (done && (seen >= WRITERS * ROUNDS || Date.now() - doneAt > graceMs)) break;
    await sleep(POLL_MS);
  }
  if (!done) throw new Error(`writers did not finish: ${writers.stderr().slice(-1500)}`);
  return { samples, seen, done };
}

/** The writer helper process, connected or attached and waiting; `go()` starts it. */
async function startWriters(args: string[]): Promise<{ writers: Proc; go: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'pdsm-bench-go-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const goFile = join(dir, 'go');
  const writers = spawnHelper('lib/writers.ts', [...args, String(WRITERS), String(COUNTERS), String(ROUNDS), String(PERIOD_MS), goFile]);
  await writers.waitFor(/^ready$/m, 30_000);
  return { writers, go: () => writeFileSync(goFile, '') };
}

async function runRedis(path: string): Promise<Run> {
  const { proc: server, port } = await startRedis(path);
  const reader = await connectRedis(port);
  const close = onCleanup(() => reader.disconnect());
  try {
    const { writers, go } = await startWriters(['redis', String(port)]);
    const markerKeys = Array.from({ length: WRITERS }, (_, w) => `m:${w}`);
    // The markers exist before the start, so the reader's first MGET sees every one.
    await reader.mset(Object.fromEntries(markerKeys.map((k) => [k, '0'])));
    const read = async (): Promise<bigint[]> => (await reader.mget(...markerKeys)).map((v) => BigInt(v ?? 0));
    const cpu0 = { writer: cpuSeconds(writers.pid), server: cpuSeconds(server.pid) };
    const t0 = performance.now();
    go();
    const polled = await pollMarkers(read, writers, 2000);
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = { writer: cpuSeconds(writers.pid) - cpu0.writer, server: cpuSeconds(server.pid) - cpu0.server };
    // Check: every counter of writer 0 and of writer 63 holds the sum of its deltas.
    let bad = 0;
    for (const w of [0, WRITERS - 1]) {
      const vals = await reader.mget(...Array.from({ length: COUNTERS }, (_, i) => `c:${w}:${i}`));
      vals.forEach((v, i) => {
        if (BigInt(v ?? -1) !== expected(i)) bad++;
      });
    }
    await writers.stop();
    const d = polled.done;
    return {
      system: 'Redis (pipelined INCRBY)',
      done: d,
      latencyMs: polled.samples,
      markersMissed: WRITERS * ROUNDS - polled.seen,
      summary: summarize(polled.samples),
      cpu,
      wallSeconds,
      wire: {
        bytes: (d.bytesWritten ?? 0) + (d.bytesRead ?? 0),
        units: 0,
        unit: 'TCP payload',
        detail: { 'client->server': { n: 0, bytes: d.bytesWritten ?? 0 }, 'server->client': { n: 0, bytes: d.bytesRead ?? 0 } },
      },
      verified:
        bad === 0 ? `writers 0 and ${WRITERS - 1}: all ${2 * COUNTERS} counters hold the sum of their deltas` : `${bad} of ${2 * COUNTERS} counters WRONG`,
    };
  } finally {
    reader.disconnect();
    close();
    await server.stop();
  }
}

/** Datagrams and UDP payload bytes by message type of `pdsm:udp send` trace lines. */
function sentByType(text: string): Record<string, { n: number; bytes: number }> {
  const out: Record<string, { n: number; bytes: number }> = {};
  for (const m of text.matchAll(/pdsm:udp send \S+ (\w+) .*bytes=(\d+)/g)) {
    const c = (out[m[1]!] ??= { n: 0, bytes: 0 });
    c.n++;
    c.bytes += Number(m[2]);
  }
  return out;
}

async function runPdsm(intervalMs: number, mode: 'pdsm' | 'pdsm-view'): Promise<Run> {
  const place = await newPlace(1);
  const opts = { intervalMs, remotes: 1, size: '512K', env: TRACE_ENV };
  const master = await startMaster(place, opts);
  const remote = await startRemote(place, 0, opts);
  const node: MasterNode = attachMaster({ registryDir: place.dir });
  const detach = onCleanup(() => node.detach());
  try {
    const slice = node.roSlice(0);
    // The join's full RO batch must be through before the window opens.
    for (let i = 0; i < 250 && node.status('ro', 0).batches < 1n; i++) await sleep(20);
    await sleep(3 * intervalMs + 50);
    const { writers, go } = await startWriters([mode, place.dir]);
    const read = (): bigint[] => Array.from({ length: WRITERS }, (_, w) => slice.readBigUInt64LE(MARKER_BASE + 8 * w));
    const marks = { master: master.mark(), remote: remote.mark() };
    const cpu0 = { writer: cpuSeconds(writers.pid), master: cpuSeconds(master.pid), remote: cpuSeconds(remote.pid) };
    const t0 = performance.now();
    go();
    const polled = await pollMarkers(read, writers, Math.max(2000, 20 * intervalMs));
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpuM = cpuSeconds(master.pid) - cpu0.master;
    const cpuR = cpuSeconds(remote.pid) - cpu0.remote;
    const cpu = { writer: cpuSeconds(writers.pid) - cpu0.writer, server: cpuM + cpuR, master: cpuM, remote: cpuR };
    const sentM = sentByType(master.stderrSince(marks.master));
    const sentR = sentByType(remote.stderrSince(marks.remote));
    const detail: Record<string, { n: number; bytes: number }> = {};
    for (const [who, sent] of [
      ['remote', sentR],
      ['master', sentM],
    ] as const) {
      for (const [type, c] of Object.entries(sent)) detail[`${who} ${type}`] = c;
    }
    const all = Object.values(detail);
    // Check: every counter at the master holds the sum of its deltas (replication complete).
    let bad = 0;
    node.readConsistent(0, () => {
      bad = 0;
      for (let w = 0; w < WRITERS; w++) for (let i = 0; i < COUNTERS; i++) if (slice.readBigUInt64LE((w * COUNTERS + i) * 8) !== expected(i)) bad++;
    });
    await writers.stop();
    return {
      system: `PDSM -i ${intervalMs}, ${mode === 'pdsm' ? 'Buffer' : 'BigUint64Array'} stores`,
      intervalMs,
      done: polled.done,
      latencyMs: polled.samples,
      markersMissed: WRITERS * ROUNDS - polled.seen,
      summary: summarize(polled.samples),
      cpu,
      wallSeconds,
      wire: { bytes: all.reduce((a, c) => a + c.bytes, 0), units: all.reduce((a, c) => a + c.n, 0), unit: 'UDP payload', detail },
      verified:
        bad === 0
          ? `all ${WRITERS * COUNTERS} counters at the master hold the sum of their deltas`
          : `${bad} of ${WRITERS * COUNTERS} counters at the master WRONG`,
    };
  } finally {
    node.detach();
    detach();
    await remote.stop();
    await master.stop();
  }
}

/**
 * The writers' inner loops alone, hot, in this process, over a plain Buffer (no daemon, no
 * socket): what the writer-loop column is made of. Median of 7 passes of 100 rounds.
 */
function hotLoops(): { what: string; ns: number }[] {
  const buf = Buffer.alloc(COUNTERS * 8);
  const view = new BigUint64Array(buf.buffer, buf.byteOffset, COUNTERS);
  const loops: { what: string; run: (r: number) => void }[] = [
    {
      what: 'Buffer readBigUInt64LE + writeBigUInt64LE',
      run: (r) => {
        for (let i = 0; i < COUNTERS; i++) buf.writeBigUInt64LE(buf.readBigUInt64LE(i * 8) + BigInt(delta(i, r)), i * 8);
      },
    },
    {
      what: 'BigUint64Array element += BigInt(delta)',
      run: (r) => {
        for (let i = 0; i < COUNTERS; i++) view[i] = view[i]! + BigInt(delta(i, r));
      },
    },
  ];
  return loops.map(({ what, run }) => {
    const passes: number[] = [];
    for (let p = 0; p < 7; p++) {
      const t = nowNs();
      for (let r = 0; r < 100; r++) run(r);
      passes.push(Number(nowNs() - t) / (100 * COUNTERS));
    }
    return { what, ns: passes.sort((a, b) => a - b)[3]! };
  });
}

export async function benchRedis(): Promise<BenchResult> {
  const t0 = performance.now();
  const notes: string[] = [];
  const found = await ensureRedisServer((line) => process.stdout.write(`(redis: ${line})\n`));
  let redis: Run | undefined;
  let version = '';
  if ('path' in found) {
    version = await redisVersion(found.path);
    try {
      redis = await runRedis(found.path);
    } catch (err) {
      // The PDSM rows still mean something without the baseline: say why it is missing.
      notes.push(`Redis row FAILED: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    notes.push(`Redis row SKIPPED: ${found.skip}`);
  }
  const runs: Run[] = [];
  for (const r of PDSM_RUNS) runs.push(await runPdsm(r.intervalMs, r.mode));
  const hot = hotLoops();
  const all = [...(redis ? [redis] : []), ...runs];

  const perUpdate = (r: Run, x: number): number => x / r.done.updates;
  const loopNs = (r: Run): number => perUpdate(r, r.done.loopNs);
  const writerCpuNs = (r: Run): number => perUpdate(r, r.cpu.writer * 1e9);
  const totalCpu = (r: Run): number => r.cpu.writer + r.cpu.server;
  const lower = (base: number | undefined, x: number): string => (base === undefined ? '-' : ratio(base, x, 1));

  const t1: Table = {
    title: `Against Redis: ${WRITERS} writers x ${COUNTERS} counters, a round each per ${PERIOD_MS} ms, ${ROUNDS} rounds (${WRITERS * COUNTERS * ROUNDS} updates), loopback`,
    columns: [
      'system',
      'updates',
      'writer loop ns/upd',
      'x lower than Redis',
      'writer CPU ns/upd',
      'x lower than Redis',
      'visible p50 ms',
      'p99 ms',
      'max ms',
      'markers seen',
    ],
    rows: all.map((r) => [
      r.system,
      String(r.done.updates),
      num(loopNs(r), 1),
      lower(redis && loopNs(redis), loopNs(r)),
      num(writerCpuNs(r), 1),
      lower(redis && writerCpuNs(redis), writerCpuNs(r)),
      num(r.summary.p50, 3),
      num(r.summary.p99, 3),
      num(r.summary.max, 3),
      `${r.summary.n}/${WRITERS * ROUNDS}`,
    ]),
    notes: [
      ...notes,
      `baseline: the Redis row${version ? ` (redis-server ${version}, --save '' --appendonly no)` : ''}, same run; writers: one helper process, ${WRITERS} async loops (Redis: a connection each)`,
      'writer loop = the synchronous part of a round, per update (Redis: an ioredis pipeline of 1000 INCRBY + 1 SET and its exec(); PDSM: 1000 read-add-store of a u64 in RO + 1 marker store)',
      'writer CPU = utime+stime of the writer process over the run, per update (Redis: reply parsing included; both: timers and idle)',
      `visible = now - stamp of each round-end marker, polled every ~${POLL_MS} ms at the master (PDSM: master RO slice 0; Redis: MGET on a separate connection): up to ~1.2 ms of polling delay included`,
      `the loops alone, hot, in the bench process, ns/update (median of 7 x 100 rounds): ${hot.map((h) => `${h.what} ${num(h.ns, 1)}`).join('; ')}`,
      ...all.map((r) => `${r.system}: ${r.verified}; rounds started late: ${r.done.late}; reply errors: ${r.done.errors}; markers missed: ${r.markersMissed}`),
    ],
  };

  const t2: Table = {
    title: 'Against Redis: bytes on the wire and total CPU for the same updates',
    columns: [
      'system',
      'wire bytes',
      'B/update',
      'vs Redis',
      'CPU writer s',
      'CPU server/daemons s',
      'CPU total s',
      '% of a core',
      'CPU ns/update',
      'vs Redis',
    ],
    rows: all.map((r) => [
      r.system,
      String(r.wire.bytes),
      num(perUpdate(r, r.wire.bytes), 2),
      redis ? ratio(perUpdate(r, r.wire.bytes), perUpdate(redis, redis.wire.bytes), 3) : '-',
      num(r.cpu.writer, 2),
      r.cpu.master !== undefined ? `${num(r.cpu.server, 2)} (R ${num(r.cpu.remote, 2)} + M ${num(r.cpu.master, 2)})` : num(r.cpu.server, 2),
      num(totalCpu(r), 2),
      `${num((100 * totalCpu(r)) / r.wallSeconds, 1)}%`,
      num(perUpdate(r, totalCpu(r) * 1e9), 0),
      redis ? ratio(totalCpu(r), totalCpu(redis), 2) : '-',
    ]),
    notes: [
      "wire bytes: Redis = TCP payload written + read by the 64 writer sockets (the reader's MGETs not counted); PDSM = UDP payload of every datagram both daemons sent in the window (pdsm:udp trace bytes=, heartbeats included); IP/TCP/UDP headers not counted",
      ...all
        .filter((r) => r.intervalMs !== undefined)
        .map(
          (r) =>
            `${r.system}: ${Object.entries(r.wire.detail)
              .map(([k, c]) => `${k} ${c.n} dgrams ${c.bytes} B`)
              .join(', ')}`,
        ),
      ...(redis
        ? [
            `Redis: client->server ${redis.wire.detail['client->server']?.bytes} B (${num(perUpdate(redis, redis.wire.detail['client->server']?.bytes ?? 0), 1)} B/update), server->client ${redis.wire.detail['server->client']?.bytes} B`,
          ]
        : []),
      'CPU: utime+stime (/proc/<pid>/stat, 10 ms ticks) from the go signal until every last marker was seen; the polling reader (this process) not counted, but redis-server serves its ~1000 MGET/s',
      'PDSM daemons run with PDSM_DEBUG=pdsm:udp (one trace line per datagram) to count bytes: their CPU includes that tracing',
    ],
  };

  const targets: BenchResult['targets'] = [];
  if (redis) {
    for (const r of runs) {
      const x = loopNs(redis) / loopNs(r);
      targets.push({
        target: `writer-side cost >= 100x lower than Redis (${r.system})`,
        measured: `${num(x, 1)}x (${num(loopNs(r), 1)} vs ${num(loopNs(redis), 1)} ns/update, writer loop)`,
        met: x >= 100,
      });
    }
  }
  for (const r of runs) {
    const limit = r.intervalMs! + 2;
    targets.push({
      target: `store->visible at the master within the interval (p99 <= -i + 2 ms, as benchmark 2) (${r.system})`,
      measured: `p50 ${num(r.summary.p50, 3)} ms, p99 ${num(r.summary.p99, 3)} ms over ${r.summary.n} markers (limit ${limit} ms)`,
      met: r.summary.n > 0 && r.summary.p99 <= limit && r.markersMissed === 0,
    });
  }
  t2.notes.push(...targets.map(targetLine));

  return {
    name: 'redis',
    tables: [t1, t2],
    targets,
    data: {
      writers: WRITERS,
      counters: COUNTERS,
      rounds: ROUNDS,
      periodMs: PERIOD_MS,
      redisVersion: version,
      redisSkipped: 'skip' in found ? found.skip : undefined,
      hotLoopsNs: hot,
      runs: all.map((r) => ({ ...r, latencyMs: r.latencyMs.map((x) => Math.round(x * 1000) / 1000) })),
    },
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Benchmark 2, latency: from a store into the master's MO slice to its visibility in the
 * remote's MO, through a real pdsm_master and pdsm_remote on loopback, at -i 1, 10 and
 * 100 ms, beside a raw UDP ping-pong between two processes measured in the same run.
 *
 * The writer (this process, through the library) stores a counter and the monotonic time
 * of the store into MO slice 0 in one consistent write; the reader (this process too)
 * polls the remote's MO with consistent reads every ~20 us and records when each new
 * counter appears. The next store waits until the previous one was seen, plus a random
 * delay in [0, interval), so stores fall at every phase of the daemon's scan timer and none
 * is coalesced with another. The loop blocks this process's event loop on purpose (the
 * daemons are other processes); it is bounded in count and in time.
 *
 * The flush runs (-i 1000): after each store the writer calls flush() (the control socket
 * answers once the master has scanned and queued the datagrams). In the first, the reader
 * polls at once, while the answer is on its way: the answer is not on the path from the store
 * to the remote (a reader elsewhere does not wait for the writer's answer), and is awaited
 * after the store was seen, before the next one. In the second (as before issue 17's
 * latency work), the writer awaits the answer first and only then does the reader look, so
 * that row adds the answer's trip back and this process's wake-up for it. The next store
 * follows 1-5 ms after the last was seen (past --flush-min-ms, so no flush waits for the gate).
 * The first run's p99 is held against the UDP one-way p99 of the same run.
 */
import { createSocket } from 'node:dgram';
import { attachMaster, attachRemote } from '../src/index.js';
import { blockFor, cpuSeconds, newPlace, onCleanup, spawnHelper, startMaster, startRemote } from './lib/cluster.js';
import { num, ratio, summarize, targetLine, type BenchResult, type Summary, type Table } from './lib/report.js';

const RUNS = [
  { intervalMs: 1, updates: 1000, maxSeconds: 40, flush: false },
  { intervalMs: 10, updates: 1000, maxSeconds: 45, flush: false },
  { intervalMs: 100, updates: 1000, maxSeconds: 130, flush: false },
  { intervalMs: 1000, updates: 1000, maxSeconds: 40, flush: 'polled' },
  { intervalMs: 1000, updates: 1000, maxSeconds: 40, flush: 'awaited' },
] as const;
/** How a run flushes: not at all, polling while the answer travels, or awaiting it first. */
type FlushMode = false | 'polled' | 'awaited';
/** Target of the flush run: p99 store->visible with flush, ms. */
const FLUSH_P99_MS = 0.5;
const WARMUP = 20;
const PINGS = 3000;

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Raw UDP ping-pong with an echo process: round-trip times in ms. */
async function pingPong(): Promise<number[]> {
  const echo = spawnHelper('peers/udp-echo.ts', ['60']);
  try {
    await echo.waitFor(/port \d+/);
    const port = Number(/port (\d+)/.exec(echo.stderr())![1]);
    const socket = createSocket('udp4');
    const close = onCleanup(() => {
      socket.close();
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const payload = Buffer.alloc(64);
    const rtts: number[] = [];
    try {
      await new Promise<void>((resolve) => {
        let sentAt = 0;
        const deadline = setTimeout(resolve, 20_000);
        const send = (): void => {
          sentAt = nowMs();
          socket.send(payload, port, '127.0.0.1');
        };
        // A lost datagram would stall the ping-pong: resend after 100 ms of silence.
        let guard = setTimeout(function again() {
          send();
          guard = setTimeout(again, 100);
        }, 100);
        socket.on('message', () => {
          rtts.push(nowMs() - sentAt);
          clearTimeout(guard);
          if (rtts.length >= PINGS + WARMUP) {
            clearTimeout(deadline);
            resolve();
            return;
          }
          guard = setTimeout(function again() {
            send();
            guard = setTimeout(again, 100);
          }, 100);
          send();
        });
        send();
      });
    } finally {
      socket.close();
      close();
    }
    return rtts.slice(WARMUP);
  } finally {
    await echo.stop();
  }
}

interface RunResult {
  intervalMs: number;
  flush: FlushMode;
  samples: number[];
  timeouts: number;
  busy: number;
  summary: Summary;
  cpuMaster: number;
  cpuRemote: number;
  wallSeconds: number;
}

async function storeToVisible(intervalMs: number, updates: number, maxSeconds: number, flush: FlushMode): Promise<RunResult> {
  const place = await newPlace(1);
  const opts = { intervalMs, remotes: 1, size: '4K' };
  const master = await startMaster(place, opts);
  const remote = await startRemote(place, 0, opts);
  const m = attachMaster({ registryDir: place.dir });
  const r = attachRemote({ registryDir: place.dir, clientId: 0 });
  const detach = onCleanup(() => {
    m.detach();
    r.detach();
  });
  try {
    const slice = m.moSlice(0);
    let busy = 0;
    let last: [bigint, bigint] = [0n, 0n];
    // A reader that finds the generation odd for its whole try budget (the remote daemon was
    // preempted mid-apply) keeps its last value and tries again at the next poll, as an
    // application would; such polls are counted.
    const read = (): [bigint, bigint] => {
      try {
        last = r.readConsistent('mo', () => [r.mo.readBigUInt64LE(0), r.mo.readBigUInt64LE(8)] as [bigint, bigint]);
      } catch (err) {
        if ((err as { code?: string }).code !== 'PDSM_ERR_BUSY') throw err;
        busy++;
      }
      return last;
    };
    const samples: number[] = [];
    let timeouts = 0;
    let counter = read()[0];
    let pending: { counter: bigint; at: number; answer?: Promise<unknown> } | undefined;
    let nextWriteAt = nowMs();
    const timeoutMs = flush ? 1000 : Math.max(1000, 20 * intervalMs);
    const t0 = nowMs();
    const deadline = t0 + maxSeconds * 1000;
    const cpu0 = [cpuSeconds(master.pid), cpuSeconds(remote.pid)];
    for (let i = 0; i < 50_000_000 && samples.length < updates + WARMUP; i++) {
      const now = nowMs();
      if (now > deadline) break;
      if (pending === undefined && now >= nextWriteAt) {
        counter++;
        const c = counter;
        const at = nowMs();
        m.writeConsistent(0, () => {
          slice.writeBigUInt64LE(c, 0);
          slice.writeBigUInt64LE(BigInt(Math.round(at * 1e6)), 8);
        });
        pending = { counter: c, at };
        if (flush === 'awaited') await m.flush(0);
        else if (flush === 'polled') pending.answer = m.flush(0); // the request left at once (ControlClient)
      }
      if (pending !== undefined) {
        const [seen, storedNs] = read();
        const t = nowMs();
        if (seen === pending.counter) {
          samples.push(t - Number(storedNs) / 1e6);
          const answer = pending.answer;
          pending = undefined;
          nextWriteAt = t + (flush ? 1 + Math.random() * 4 : Math.random() * intervalMs);
          if (answer) await answer; // one flush outstanding at a time; a refusal fails the run
        } else if (t - pending.at > timeoutMs) {
          timeouts++;
          const answer = pending.answer;
          pending = undefined;
          nextWriteAt = t;
          if (answer) await answer;
        }
      }
      blockFor(0.02);
    }
    const wallSeconds = (nowMs() - t0) / 1000;
    const cpu = [cpuSeconds(master.pid) - cpu0[0]!, cpuSeconds(remote.pid) - cpu0[1]!];
    const kept = samples.slice(WARMUP);
    return {
      intervalMs,
      flush,
      samples: kept,
      timeouts,
      busy,
      summary: summarize(kept),
      cpuMaster: cpu[0]! / wallSeconds,
      cpuRemote: cpu[1]! / wallSeconds,
      wallSeconds,
    };
  } finally {
    m.detach();
    r.detach();
    detach();
    await remote.stop();
    await master.stop();
  }
}

const runName = (r: RunResult): string => `-i ${r.intervalMs}${r.flush ? ` ${r.flush}` : ''}`;

export async function benchLatency(): Promise<BenchResult> {
  const t0 = performance.now();
  const rtts = await pingPong();
  const rtt = summarize(rtts);
  const oneWay = summarize(rtts.map((x) => x / 2));
  const runs: RunResult[] = [];
  for (const run of RUNS) runs.push(await storeToVisible(run.intervalMs, run.updates, run.maxSeconds, run.flush));
  const rows: (string | number)[][] = [
    ['UDP ping-pong RTT', String(rtt.n), num(rtt.p50, 3), num(rtt.p99, 3), num(rtt.max, 3), num(rtt.mean, 3), '-', '-', '-'],
    ['UDP one-way (RTT/2)', String(oneWay.n), num(oneWay.p50, 3), num(oneWay.p99, 3), num(oneWay.max, 3), num(oneWay.mean, 3), '1.00x', '-', '-'],
  ];
  for (const r of runs) {
    const s = r.summary;
    rows.push([
      `store->visible -i ${r.intervalMs}${r.flush === 'polled' ? ' + flush' : r.flush === 'awaited' ? ' + awaited flush' : ''}`,
      String(s.n),
      num(s.p50, 3),
      num(s.p99, 3),
      num(s.max, 3),
      num(s.mean, 3),
      ratio(s.p50, oneWay.p50, 1),
      r.flush ? '-' : num(s.p99 - r.intervalMs, 3),
      `${num(r.cpuMaster * 100, 1)}% / ${num(r.cpuRemote * 100, 1)}%`,
    ]);
  }
  const at1 = runs.find((r) => r.intervalMs === 1)!;
  const flushed = runs.find((r) => r.flush === 'polled')!;
  const targets = [
    {
      target: 'p99 store->visible <= interval + 2 ms at -i 1',
      measured: `p99 ${num(at1.summary.p99, 3)} ms over ${at1.summary.n} updates (limit 3 ms)`,
      met: at1.summary.n >= 1000 && at1.summary.p99 <= 3,
    },
    {
      target: `p99 store->visible with flush <= ${FLUSH_P99_MS} ms at -i 1000`,
      measured: `p99 ${num(flushed.summary.p99, 3)} ms over ${flushed.summary.n} updates, ${ratio(flushed.summary.p99, oneWay.p99, 1)} the UDP one-way p99 (${num(oneWay.p99, 3)} ms)`,
      met: flushed.summary.n >= 1000 && flushed.summary.p99 <= FLUSH_P99_MS,
    },
  ];
  const shortRuns = runs.filter((r) => r.summary.n < 1000);
  const table: Table = {
    title: 'Latency: store on the master (MO slice 0) to visible on the remote, loopback, real daemons, ms',
    columns: ['measurement', 'n', 'p50', 'p99', 'max', 'mean', 'p50/UDP one-way', 'p99-interval', 'CPU master/remote'],
    rows,
    notes: [
      'baseline: raw UDP ping-pong, 64-byte datagrams, this process <-> an echo process, same run',
      'each store waits for the previous one to be seen, then a random delay in [0, interval): stores land at every phase of the scan',
      'reader polls with consistent reads every ~20 us (Atomics.wait), so figures include up to ~0.1 ms of polling delay',
      'flush runs: each store is followed by flush() (answered once the master queued the datagrams); the next store 1-5 ms after the last was seen',
      '  + flush: the reader polls while the answer travels (awaited after the store is seen); + awaited flush: the writer awaits the answer, then the reader looks',
      `timeouts (not visible within max(1 s, 20 intervals); 1 s with flush): ${runs.map((r) => `${runName(r)}: ${r.timeouts}`).join(', ')}`,
      `polls where readConsistent gave up (PDSM_ERR_BUSY, retried at the next poll): ${runs.map((r) => `${runName(r)}: ${r.busy}`).join(', ')}`,
      ...(shortRuns.length
        ? [`fewer than 1000 updates (time bound): ${shortRuns.map((r) => `${runName(r)}: ${r.summary.n} in ${num(r.wallSeconds, 0)} s`).join(', ')}`]
        : []),
      ...targets.map(targetLine),
    ],
  };
  return {
    name: 'latency',
    tables: [table],
    targets,
    data: { pingPongRttMs: rtts, runs: runs.map((r) => ({ ...r, samples: r.samples.map((x) => Math.round(x * 1000) / 1000) })) },
    seconds: (performance.now() - t0) / 1000,
  };
}

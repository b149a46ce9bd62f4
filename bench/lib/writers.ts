/**
 * Bench helper process for the Redis comparison (bench/redis.ts): W writers, each updating
 * C counters of its own once per round, as async loops in this one process.
 *
 *   writers.ts redis PORT W C ROUNDS PERIOD_MS GO_FILE   pipelined INCRBY + SET to redis-server
 *   writers.ts pdsm DIR W C ROUNDS PERIOD_MS GO_FILE     plain stores into remote 0's RO segment
 *   writers.ts pdsm-view DIR ...                         the same through a BigUint64Array view
 *
 * Writer w runs round r at go + (w/W + r) * PERIOD_MS (staggered, so rounds spread over the
 * period). A round adds a delta to each of the writer's C counters and then publishes a
 * marker holding the monotonic time (process.hrtime, CLOCK_MONOTONIC: the same clock in
 * every process of this host) of the end of the round, which the bench's reader polls for:
 * - redis: C x `INCRBY c:<w>:<i> <delta>` and `SET m:<w> <ns>` as one ioredis pipeline on
 *   the writer's own connection (64 connections; ioredis is what Node users run); the
 *   replies are parsed as they come; a round waits for the previous round's replies.
 * - pdsm: counter i of writer w is the u64 at (w*C + i) * 8 of remote 0's RO, updated with
 *   Buffer readBigUInt64LE + writeBigUInt64LE (pdsm-view: BigUint64Array element += delta);
 *   marker w is the u64 at W*C*8 + w*8.
 * "Loop time" is the synchronous part of a round (pipeline + exec, or the stores), measured
 * with process.hrtime around it.
 *
 * Protocol with the bench: prints `ready` on stderr once connected or attached, starts 50 ms
 * after GO_FILE appears, prints `done <json>` when every round finished (and, for redis, every reply
 * arrived), then waits for SIGTERM, so the bench can read this process's CPU first. It exits
 * by itself after 120 s whatever happens.
 */
import { existsSync } from 'node:fs';
import { attachRemote } from '../../src/index.js';
import { Redis } from 'ioredis';
import { connectRedis } from './redis-server.js';

const [mode, where, w, c, rounds, period, GO_FILE] = process.argv.slice(2);
const WRITERS = Number(w);
const COUNTERS = Number(c);
const ROUNDS = Number(rounds);
const PERIOD_MS = Number(period);

// Kept referenced: it also keeps this process alive while it waits for the go file.
setTimeout(() => process.exit(3), 120_000);
process.on('SIGTERM', () => process.exit(0));

const nowNs = (): bigint => process.hrtime.bigint();
const sleepUntil = (ns: bigint): Promise<void> => {
  const ms = Number(ns - nowNs()) / 1e6;
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
};

/**
 * Wait until the go file exists (polled every ms), then start 50 ms later. A file rather
 * than a signal: a signal that arrives before Node has installed its handler kills or is lost.
 */
async function waitForGo(): Promise<bigint> {
  for (let i = 0; i < 60_000 && !existsSync(GO_FILE!); i++) await new Promise((r) => setTimeout(r, 1));
  return nowNs() + 50_000_000n;
}

/** The delta of counter i in round r: 1..100000, so its decimal length varies as real ones do. */
const delta = (i: number, r: number): number => ((i * 7919 + r * 104729) % 100_000) + 1;

interface WriterResult {
  updates: number;
  loopNs: number;
  /** Rounds that started more than one period late (the previous round's replies lagged). */
  late: number;
  errors: number;
}

async function runRedis(port: number): Promise<{ writers: WriterResult[]; bytesWritten: number; bytesRead: number }> {
  const clients: Redis[] = [];
  for (let i = 0; i < WRITERS; i++) clients.push(await connectRedis(port));
  const keys = Array.from({ length: WRITERS }, (_, wi) => Array.from({ length: COUNTERS }, (_, i) => `c:${wi}:${i}`));
  process.stderr.write('ready\n');
  const go = await waitForGo();
  const periodNs = BigInt(Math.round(PERIOD_MS * 1e6));
  type Replies = [Error | null, unknown][] | null;
  const results = await Promise.all(
    clients.map(async (client, wi) => {
      const res: WriterResult = { updates: 0, loopNs: 0, late: 0, errors: 0 };
      const myKeys = keys[wi]!;
      let previous: Promise<Replies> | undefined;
      const countErrors = (replies: Replies): void => {
        if (replies === null) res.errors++;
        else for (const [err] of replies) if (err) res.errors++;
      };
      for (let r = 0; r < ROUNDS; r++) {
        const at = go + (BigInt(wi) * periodNs) / BigInt(WRITERS) + BigInt(r) * periodNs;
        if (previous) countErrors(await previous);
        if (nowNs() > at + periodNs) res.late++;
        await sleepUntil(at);
        const t0 = nowNs();
        const pipeline = client.pipeline();
        for (let i = 0; i < COUNTERS; i++) pipeline.incrby(myKeys[i]!, delta(i, r));
        pipeline.set(`m:${wi}`, String(nowNs()));
        previous = pipeline.exec();
        res.loopNs += Number(nowNs() - t0);
        res.updates += COUNTERS;
      }
      if (previous) countErrors(await previous);
      return res;
    }),
  );
  // TCP payload of every writer connection (ioredis keeps its net.Socket as `stream`).
  const bytesWritten = clients.reduce((a, x) => a + x.stream.bytesWritten, 0);
  const bytesRead = clients.reduce((a, x) => a + x.stream.bytesRead, 0);
  for (const x of clients) x.disconnect();
  return { writers: results, bytesWritten, bytesRead };
}

async function runPdsm(dir: string, useView: boolean): Promise<{ writers: WriterResult[] }> {
  const node = attachRemote({ registryDir: dir, clientId: 0 });
  const ro = node.ro;
  // pdsm-view: the same stores through a BigUint64Array over the segment (native byte order,
  // little-endian here), which skips Buffer's per-call BigInt assembly.
  const view = useView ? new BigUint64Array(ro.buffer, ro.byteOffset, ro.length / 8) : undefined;
  const markerBase = WRITERS * COUNTERS * 8;
  if (ro.length < markerBase + WRITERS * 8) throw new Error(`RO of ${ro.length} bytes is too small for ${WRITERS} x ${COUNTERS} counters and markers`);
  process.stderr.write('ready\n');
  const go = await waitForGo();
  const periodNs = BigInt(Math.round(PERIOD_MS * 1e6));
  const results = await Promise.all(
    Array.from({ length: WRITERS }, async (_, wi) => {
      const res: WriterResult = { updates: 0, loopNs: 0, late: 0, errors: 0 };
      const base = wi * COUNTERS * 8;
      for (let r = 0; r < ROUNDS; r++) {
        const at = go + (BigInt(wi) * periodNs) / BigInt(WRITERS) + BigInt(r) * periodNs;
        if (nowNs() > at + periodNs) res.late++;
        await sleepUntil(at);
        const t0 = nowNs();
        if (view) {
          const first = base / 8;
          for (let i = 0; i < COUNTERS; i++) view[first + i] = view[first + i]! + BigInt(delta(i, r));
          view[markerBase / 8 + wi] = nowNs();
        } else {
          for (let i = 0; i < COUNTERS; i++) {
            const off = base + i * 8;
            ro.writeBigUInt64LE(ro.readBigUInt64LE(off) + BigInt(delta(i, r)), off);
          }
          ro.writeBigUInt64LE(nowNs(), markerBase + wi * 8);
        }
        res.loopNs += Number(nowNs() - t0);
        res.updates += COUNTERS;
      }
      return res;
    }),
  );
  node.detach();
  return { writers: results };
}

try {
  const out = mode === 'redis' ? await runRedis(Number(where)) : await runPdsm(where!, mode === 'pdsm-view');
  const updates = out.writers.reduce((a, x) => a + x.updates, 0);
  const loopNs = out.writers.reduce((a, x) => a + x.loopNs, 0);
  const late = out.writers.reduce((a, x) => a + x.late, 0);
  const errors = out.writers.reduce((a, x) => a + x.errors, 0);
  process.stderr.write(`done ${JSON.stringify({ ...out, writers: undefined, updates, loopNs, late, errors })}\n`);
  // Stays alive (idle, on the exit timer) until the bench has read this CPU and sends SIGTERM.
} catch (err) {
  process.stderr.write(`failed ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}

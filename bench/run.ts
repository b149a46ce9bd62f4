/**
 * `npm run bench`: the whole benchmark suite (issue 8), in well under 10 minutes.
 *
 *   npm run bench                     every benchmark
 *   npm run bench -- scan latency     only these (scan, latency, wire, fleet, redis, fanout, forged, bigsync, history)
 *
 * Prints one table per benchmark, each figure beside a baseline measured in the same run
 * (the machine is shared and noisy, so there are no timed assertions, only ratios and
 * targets reported as met or missed), and writes every number to
 * bench/results/<timestamp>.json. Every daemon is stopped by pid and every segment and
 * temporary folder removed at the end, also on error or Ctrl-C.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchBigsync } from './bigsync.js';
import { benchFleet } from './fleet.js';
import { benchFanout } from './fanout.js';
import { benchForged } from './forged.js';
import { benchHistory } from './history.js';
import { benchLatency } from './latency.js';
import { benchRedis } from './redis.js';
import { benchScan } from './scan.js';
import { benchWire } from './wire.js';
import { checkBuilt, cleanupAll, ROOT } from './lib/cluster.js';
import { renderTable, type BenchResult } from './lib/report.js';

const BENCHES: Record<string, () => Promise<BenchResult>> = {
  scan: benchScan,
  latency: benchLatency,
  wire: benchWire,
  fleet: benchFleet,
  redis: benchRedis,
  fanout: benchFanout,
  forged: benchForged,
  bigsync: benchBigsync,
  history: benchHistory,
};

function machine(): Record<string, unknown> {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) model = m[1];
  } catch {
    /* not Linux */
  }
  return { nproc: cpus().length, cpu: model, node: process.version, platform: `${process.platform} ${process.arch}`, loadavg: loadavg() };
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !(a in BENCHES));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`);
    return 2;
  }
  checkBuilt();
  const chosen = argv.length ? argv : Object.keys(BENCHES);
  const started = new Date();
  const m = machine();
  process.stdout.write(
    `PDSM benchmarks ${started.toISOString()}\nmachine: nproc ${m['nproc']}, ${m['cpu']}, node ${m['node']}, loadavg ${(m['loadavg'] as number[]).map((x) => x.toFixed(2)).join(' ')}\n\n`,
  );
  const results: BenchResult[] = [];
  const failures: { name: string; error: string }[] = [];
  for (const name of chosen) {
    try {
      const r = await BENCHES[name]!();
      results.push(r);
      for (const t of r.tables) process.stdout.write(`${renderTable(t)}\n\n`);
      process.stdout.write(`(${name}: ${(r.seconds ?? 0).toFixed(1)} s)\n\n`);
    } catch (err) {
      failures.push({ name, error: (err as Error).stack ?? String(err) });
      process.stdout.write(`## ${name}: FAILED\n${(err as Error).message}\n\n`);
    } finally {
      await cleanupAll();
    }
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  const summary = results.flatMap((r) => r.targets.map((t) => ({ bench: r.name, ...t })));
  process.stdout.write('## Targets\n');
  for (const t of summary) process.stdout.write(`${t.met ? 'MET   ' : 'MISSED'}  ${t.bench}: ${t.target} (measured ${t.measured})\n`);
  process.stdout.write(`\ntotal ${seconds.toFixed(1)} s\n`);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ started: started.toISOString(), seconds, machine: m, results, failures }, null, 2)}\n`);
  process.stdout.write(`results: ${file}\n`);
  return failures.length ? 1 : 0;
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}

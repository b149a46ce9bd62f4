/**
 * Helpers for the admin tests: run `pdsm status --json` and parse it, scrape a metrics
 * endpoint and parse the Prometheus text format, find a free TCP port.
 */
import { createServer } from 'node:net';
import type { DaemonReport } from '../../src/daemon/status-report.js';
import { BIN, runBin } from '../fixtures/daemon.js';

/** `pdsm status --json -d dir [--client n]`; throws with stderr if it does not exit 0. */
export function statusJson(dir: string, client?: number): DaemonReport {
  const r = runBin(BIN.pdsm, ['status', '--json', '-d', dir, ...(client === undefined ? [] : ['--client', String(client)])]);
  if (r.status !== 0) throw new Error(`pdsm status exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DaemonReport;
}

/** A TCP port that was free a moment ago. */
export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const address = s.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  samples: Sample[];
  /** The value of `name` whose labels include `labels` (undefined if none). */
  get(name: string, labels?: Record<string, string>): number | undefined;
}

/** Parse the Prometheus text exposition format (0.0.4), strictly enough to catch mistakes. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]!] = l[2]!;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    // Prometheus parses values with Go's ParseFloat, which takes NaN in any case
    // (prom-client writes "Nan" for an event-loop histogram with no samples yet).
    if (Number.isNaN(value) && m[3]!.toLowerCase() !== 'nan') throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return {
    types,
    samples,
    get(name, want = {}) {
      return samples.find((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))?.value;
    },
  };
}

export async function scrape(port: number, host = '127.0.0.1'): Promise<{ status: number; contentType: string | null; body: Exposition }> {
  const res = await fetch(`http://${host}:${port}/metrics`);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: parseExposition(text) };
}

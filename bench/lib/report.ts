/**
 * Numbers and tables for the benchmarks: percentiles, medians, and a plain-text table per
 * benchmark. Every figure is printed beside a baseline measured in the same run, because
 * this machine is shared and noisy: ratios travel between runs better than absolutes.
 */

/** The q-quantile (0..1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  const mean = n === 0 ? NaN : values.reduce((a, b) => a + b, 0) / n;
  return { n, p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: n === 0 ? NaN : Math.max(...values), mean };
}

/** A number for a table cell: a fixed number of significant-looking decimals. */
export function num(v: number | undefined, digits = 2): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return String(v);
  return v.toFixed(digits);
}

export function ratio(a: number, b: number, digits = 2): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '-';
  return `${(a / b).toFixed(digits)}x`;
}

export type Cell = string | number;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Lines printed under the table: baseline, targets, caveats. */
  notes: string[];
}

/** Render a table as aligned text (also valid inside a markdown code block). */
export function renderTable(t: Table): string {
  const cells = t.rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [`## ${t.title}`, line(t.columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  for (const n of t.notes) out.push(`  ${n}`);
  return out.join('\n');
}

/** What each benchmark hands back to the runner: tables to print and raw data for JSON. */
export interface BenchResult {
  name: string;
  tables: Table[];
  /** Targets: what was asked, what was measured, met or not. */
  targets: { target: string; measured: string; met: boolean }[];
  data: Record<string, unknown>;
  seconds?: number;
}

export function targetLine(t: { target: string; measured: string; met: boolean }): string {
  return `target ${t.met ? 'MET   ' : 'MISSED'}: ${t.target} (measured ${t.measured})`;
}

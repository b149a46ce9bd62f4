import type { BenchResult } from './lib/report.js';
export async function benchWire(): Promise<BenchResult> {
  return { name: 'wire', tables: [], targets: [], data: {} };
}

import type { BenchResult } from './lib/report.js';
export async function benchFleet(): Promise<BenchResult> {
  return { name: 'fleet', tables: [], targets: [], data: {} };
}

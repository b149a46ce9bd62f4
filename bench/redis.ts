import type { BenchResult } from './lib/report.js';
export async function benchRedis(): Promise<BenchResult> {
  return { name: 'redis', tables: [], targets: [], data: {} };
}

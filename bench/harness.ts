/**
 * Shared benchmark harness. A suite is a module in bench/suites exporting `run(): Promise<Metrics>`;
 * `npm run bench` runs them all, prints one table and writes bench-results.json as { metrics }.
 */
export type Metrics = Record<string, number>;

export interface Target {
  readonly metric: string;
  readonly op: '<=' | '>=';
  readonly value: number;
}

export interface Suite {
  readonly name: string;
  readonly targets?: readonly Target[];
  run(): Promise<Metrics>;
}

/** Percentile of a sample (nearest-rank). */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wall time of `fn` in milliseconds (high resolution). */
export const timeMs = async (fn: () => Promise<unknown>): Promise<number> => {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

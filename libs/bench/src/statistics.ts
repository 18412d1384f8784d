import type { BenchDistribution } from './bench-types.js';

/** The q-quantile (0..1) of sorted values, interpolating linearly between order statistics (as tinybench does). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower];
  const high = sorted[upper];
  return low + (high - low) * (position - lower);
}

/** Median, p50, p95, mean, min, max of the values; undefined when there are none. */
export function distribution(values: readonly (number | undefined)[]): BenchDistribution | undefined {
  const present = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  if (present.length === 0) return undefined;
  const sorted = [...present].sort((left, right) => left - right);
  const p50 = quantile(sorted, 0.5);
  return {
    median: p50,
    p50,
    p95: quantile(sorted, 0.95),
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}

export function median(values: readonly (number | undefined)[]): number | undefined {
  return distribution(values)?.median;
}

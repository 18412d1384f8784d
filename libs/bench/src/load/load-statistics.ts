/**
 * The statistics of a load run, computed as `vllm bench serve` computes them (vllm/benchmarks/serve.py,
 * calculate_metrics): percentiles by linear interpolation between order statistics (numpy's default),
 * population standard deviation, TPOT = (end-to-end − TTFT) ÷ (output tokens − 1) per request with more
 * than one output token, ITL pooled over every chunk gap of every completed request, throughputs over the
 * wall time of the whole run.
 */
import { quantile } from '../statistics.js';
import type { LoadArrivals, LoadDistribution, LoadFailure, LoadReport, LoadRequestRecord } from './load-types.js';

/** count, mean, median, p95, p99, min, max, std of the finite values; undefined when there are none. */
export function loadDistribution(values: readonly (number | undefined)[]): LoadDistribution | undefined {
  const present = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  if (present.length === 0) return undefined;
  const sorted = [...present].sort((left, right) => left - right);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  const variance = sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / sorted.length;
  return {
    count: sorted.length,
    mean,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    std: Math.sqrt(variance),
  };
}

/** Time per output token of one completed request, ms; undefined with fewer than two output tokens. */
export function timePerOutputToken(record: LoadRequestRecord): number | undefined {
  if (!record.ok || record.timeToFirstTokenMs === undefined) return undefined;
  if (record.outputTokens === undefined || record.outputTokens < 2) return undefined;
  return (record.endToEndMs - record.timeToFirstTokenMs) / (record.outputTokens - 1);
}

function groupFailures(records: readonly LoadRequestRecord[]): LoadFailure[] {
  const groups = new Map<string, LoadFailure>();
  for (const record of records) {
    if (record.ok) continue;
    const reason = record.reason ?? 'no reason given';
    const key = `${record.code ?? ''}\u0000${reason}`;
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { reason, ...(record.code === undefined ? {} : { code: record.code }), count: 1 });
  }
  return [...groups.values()].sort((left, right) => right.count - left.count);
}

export interface SummarizeLoadInput {
  records: readonly LoadRequestRecord[];
  durationMs: number;
  concurrency: number;
  rate: number | undefined;
  seed: number;
}

/** The report of a finished run from its records (in arrival order) and its wall time. */
export function summarizeLoad({ records, durationMs, concurrency, rate, seed }: SummarizeLoadInput): LoadReport {
  const completed = records.filter((record) => record.ok);
  const seconds = durationMs / 1000;
  const totalOutputTokens = completed.reduce((sum, record) => sum + (record.outputTokens ?? 0), 0);
  const totalPromptTokens = completed.reduce((sum, record) => sum + (record.promptTokens ?? 0), 0);
  const ttft = loadDistribution(completed.map((record) => record.timeToFirstTokenMs));
  const tpot = loadDistribution(completed.map(timePerOutputToken));
  const itl = loadDistribution(completed.flatMap((record) => record.interTokenLatenciesMs));
  const e2e = loadDistribution(completed.map((record) => record.endToEndMs));
  const arrivals: LoadArrivals = rate === undefined ? 'burst' : 'poisson';
  return {
    requests: records.length,
    completed: completed.length,
    failed: records.length - completed.length,
    concurrency,
    rate: rate ?? null,
    arrivals,
    seed,
    durationMs,
    requestThroughput: seconds > 0 ? completed.length / seconds : 0,
    outputTokenThroughput: seconds > 0 ? totalOutputTokens / seconds : 0,
    totalOutputTokens,
    totalPromptTokens,
    ...(ttft ? { timeToFirstTokenMs: ttft } : {}),
    ...(tpot ? { timePerOutputTokenMs: tpot } : {}),
    ...(itl ? { interTokenLatencyMs: itl } : {}),
    ...(e2e ? { endToEndLatencyMs: e2e } : {}),
    failures: groupFailures(records),
    records: [...records],
  };
}

import { describe, expect, it } from '@jest/globals';
import { arrivalOffsets, loadDistribution, seededRandom, summarizeLoad, timePerOutputToken } from '../index.js';
import type { LoadRequestRecord } from '../index.js';

/** A completed request record with the given client-side timings. */
function completed(
  index: number,
  timings: { ttft: number; itl: number[]; e2e: number; tokens?: number; prompt?: number },
): LoadRequestRecord {
  return {
    index,
    scheduledMs: 0,
    startedMs: 0,
    ok: true,
    timeToFirstTokenMs: timings.ttft,
    interTokenLatenciesMs: timings.itl,
    endToEndMs: timings.e2e,
    ...(timings.tokens === undefined ? {} : { outputTokens: timings.tokens, outputTokensSource: 'usage' as const }),
    ...(timings.prompt === undefined ? {} : { promptTokens: timings.prompt }),
  };
}

function failed(index: number, reason: string, code?: 'TIMEOUT' | 'BACKEND_UNREACHABLE'): LoadRequestRecord {
  return {
    index,
    scheduledMs: 0,
    startedMs: 0,
    ok: false,
    interTokenLatenciesMs: [],
    endToEndMs: 5,
    reason,
    ...(code ? { code } : {}),
  };
}

describe('load statistics (known data; the figures numpy gives for the same lists)', () => {
  it('1..100: mean 50.5, median 50.5, p95 95.05, p99 99.01, population std 28.866', () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index); // unsorted on purpose
    const result = loadDistribution(values)!;
    expect(result.count).toBe(100);
    expect(result.mean).toBeCloseTo(50.5, 10);
    expect(result.median).toBeCloseTo(50.5, 10);
    expect(result.p95).toBeCloseTo(95.05, 10);
    expect(result.p99).toBeCloseTo(99.01, 10);
    expect(result.min).toBe(1);
    expect(result.max).toBe(100);
    expect(result.std).toBeCloseTo(Math.sqrt((100 * 100 - 1) / 12), 10);
  });

  it('a skewed list: the tail shows in p95/p99, not in the median', () => {
    // numpy.percentile([1, 2, 3, 4, 1000], [50, 95, 99]) → [3, 800.8, 960.16]; mean 202, std √159202 ≈ 399.00125
    const result = loadDistribution([1000, 3, 1, 4, 2])!;
    expect(result.median).toBe(3);
    expect(result.p95).toBeCloseTo(800.8, 10);
    expect(result.p99).toBeCloseTo(960.16, 10);
    expect(result.mean).toBe(202);
    expect(result.std).toBeCloseTo(Math.sqrt(159_202), 10);
  });

  it('one value is every statistic; no values (or only undefined/NaN) is undefined', () => {
    expect(loadDistribution([7])).toEqual({ count: 1, mean: 7, median: 7, p95: 7, p99: 7, min: 7, max: 7, std: 0 });
    expect(loadDistribution([])).toBeUndefined();
    expect(loadDistribution([undefined, Number.NaN])).toBeUndefined();
  });

  it('TPOT is (end-to-end − TTFT) ÷ (output tokens − 1), undefined below two tokens or for a failure', () => {
    expect(timePerOutputToken(completed(0, { ttft: 10, itl: [], e2e: 100, tokens: 10 }))).toBe(10);
    expect(timePerOutputToken(completed(0, { ttft: 10, itl: [], e2e: 100, tokens: 1 }))).toBeUndefined();
    expect(timePerOutputToken(completed(0, { ttft: 10, itl: [], e2e: 100 }))).toBeUndefined();
    expect(timePerOutputToken(failed(0, 'x'))).toBeUndefined();
  });

  it('summarizes a run: counts add up, throughputs over the wall time, ITL pooled, failures grouped by reason', () => {
    const records = [
      completed(0, { ttft: 10, itl: [5, 5, 5], e2e: 25, tokens: 4, prompt: 20 }),
      completed(1, { ttft: 20, itl: [10, 30], e2e: 60, tokens: 3, prompt: 20 }),
      failed(2, 'The request did not finish within 1 s', 'TIMEOUT'),
      completed(3, { ttft: 30, itl: [], e2e: 30, tokens: 1, prompt: 20 }),
      failed(4, 'connection refused', 'BACKEND_UNREACHABLE'),
      failed(5, 'The request did not finish within 1 s', 'TIMEOUT'),
    ];
    const report = summarizeLoad({ records, durationMs: 2000, concurrency: 3, rate: undefined, seed: 0 });
    expect(report).toMatchObject({
      requests: 6,
      completed: 3,
      failed: 3,
      concurrency: 3,
      rate: null,
      arrivals: 'burst',
      totalOutputTokens: 8,
      totalPromptTokens: 60,
      requestThroughput: 1.5,
      outputTokenThroughput: 4,
    });
    expect(report.timeToFirstTokenMs).toMatchObject({ count: 3, mean: 20, median: 20, min: 10, max: 30 });
    // TPOT: (25 − 10) / 3 = 5 and (60 − 20) / 2 = 20; the one-token request has none.
    expect(report.timePerOutputTokenMs).toMatchObject({ count: 2, mean: 12.5, median: 12.5 });
    expect(report.interTokenLatencyMs).toMatchObject({ count: 5, mean: 11, median: 5, max: 30 });
    expect(report.endToEndLatencyMs).toMatchObject({ count: 3, median: 30, mean: 115 / 3 });
    expect(report.failures).toEqual([
      { reason: 'The request did not finish within 1 s', code: 'TIMEOUT', count: 2 },
      { reason: 'connection refused', code: 'BACKEND_UNREACHABLE', count: 1 },
    ]);
    expect(report.records).toHaveLength(6);
  });

  it('a run where everything failed has counts and no latency statistics', () => {
    const report = summarizeLoad({
      records: [failed(0, 'down'), failed(1, 'down')],
      durationMs: 10,
      concurrency: 1,
      rate: 2,
      seed: 7,
    });
    expect(report).toMatchObject({ requests: 2, completed: 0, failed: 2, requestThroughput: 0, arrivals: 'poisson' });
    expect(report.timeToFirstTokenMs).toBeUndefined();
    expect(report.endToEndLatencyMs).toBeUndefined();
    expect(report.failures).toEqual([{ reason: 'down', count: 2 }]);
  });
});

describe('arrivals', () => {
  it('without a rate every request is due at once', () => {
    expect(arrivalOffsets(3, undefined, 0)).toEqual([0, 0, 0]);
    expect(arrivalOffsets(2, Number.POSITIVE_INFINITY, 0)).toEqual([0, 0]);
  });

  it('with a rate: increasing, the same for the same seed, different for another seed', () => {
    const offsets = arrivalOffsets(50, 10, 1);
    for (let index = 1; index < offsets.length; index += 1)
      expect(offsets[index]!).toBeGreaterThan(offsets[index - 1]!);
    expect(arrivalOffsets(50, 10, 1)).toEqual(offsets);
    expect(arrivalOffsets(50, 10, 2)).not.toEqual(offsets);
  });

  it('the gaps are exponential with mean 1/rate (20 000 draws: mean within 3 %, P(gap > mean) ≈ e⁻¹)', () => {
    const rate = 4; // mean gap 250 ms
    const offsets = arrivalOffsets(20_000, rate, 42);
    const gaps = offsets.map((at, index) => at - (index === 0 ? 0 : offsets[index - 1]!));
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    expect(Math.abs(mean - 250) / 250).toBeLessThan(0.03);
    const above = gaps.filter((gap) => gap > 250).length / gaps.length;
    expect(Math.abs(above - Math.exp(-1))).toBeLessThan(0.02);
  });

  it('the seeded generator stays in [0, 1) and is repeatable', () => {
    const first = seededRandom(123);
    const second = seededRandom(123);
    for (let index = 0; index < 1000; index += 1) {
      const value = first();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
      expect(second()).toBe(value);
    }
  });
});

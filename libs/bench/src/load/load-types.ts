import type { CoderBackend, GenerateRequest, NerionErrorCode } from '@nerion/backend-core';

/** How requests arrive (see docs/bench.md, "Load mode"). */
export type LoadArrivals = 'burst' | 'poisson';

export interface LoadOptions {
  /** The backend every request goes to (a replicated backend routes them over its replicas). */
  backend: CoderBackend;
  /** How many requests to send in all (≥ 1). */
  requests: number;
  /** At most this many requests in flight at once (≥ 1). */
  concurrency: number;
  /**
   * Arrivals per second. Absent (or Infinity): every request is due at once and they start as fast as the
   * concurrency cap lets them (a closed loop of `concurrency` clients). Given: a Poisson process of this
   * rate (exponential gaps, seeded, as `vllm bench serve --request-rate R` with burstiness 1), still capped
   * by `concurrency`.
   */
  rate?: number;
  /** Seed of the Poisson arrival times (default 0, as vLLM's `--seed`). */
  seed?: number;
  /** The request to send as the `index`-th one (without `signal`; the runner adds its own). */
  request: (index: number) => GenerateRequest;
  /** Budget of one request, ms: past it the request is aborted, the runner stops waiting and counts it failed. */
  requestTimeoutMs: number;
  /** Aborting stops the run: requests in flight are cut, the rest are never sent, runLoad rejects with ABORTED. */
  signal?: AbortSignal;
  /** Called as each request ends (completed or failed), in the order they end. */
  onRequest?: (record: LoadRequestRecord, done: number, total: number) => void;
}

/** One request of a load run, timed on the client side from the backend's `stream()`. */
export interface LoadRequestRecord {
  /** Position in the run (0-based), i.e. arrival order. */
  index: number;
  /** When it was due, ms after the run started (0 for every request without a rate). */
  scheduledMs: number;
  /** When it was sent (after waiting for a free slot), ms after the run started. */
  startedMs: number;
  ok: boolean;
  /** Time to the first non-empty text part, ms from sending. */
  timeToFirstTokenMs?: number;
  /** Gaps between successive non-empty text parts (one per streamed chunk after the first), ms. */
  interTokenLatenciesMs: number[];
  /** From sending to the end of the stream (or to the failure), ms. */
  endToEndMs: number;
  /** Generated tokens: the engine's count from the finish part, else the number of non-empty text parts. */
  outputTokens?: number;
  outputTokensSource?: 'usage' | 'chunks';
  promptTokens?: number;
  /** Why it failed, a sentence; and the NerionError code, when there was one. */
  reason?: string;
  code?: NerionErrorCode;
}

/** Mean, median, p95 and p99 (linear interpolation, as numpy's percentile in `vllm bench serve`), plus min/max/std. */
export interface LoadDistribution {
  count: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  /** Population standard deviation (numpy's default, as vLLM reports `std_*_ms`). */
  std: number;
}

/** Failed requests grouped by reason. */
export interface LoadFailure {
  reason: string;
  code?: NerionErrorCode;
  count: number;
}

/** What `vllm bench serve` reports, over one backend × model under load. */
export interface LoadReport {
  /** Requests sent (= completed + failed). */
  requests: number;
  completed: number;
  failed: number;
  concurrency: number;
  /** Arrivals per second, or null for all at once. */
  rate: number | null;
  arrivals: LoadArrivals;
  seed: number;
  /** From the first request's dispatch to the last one's end, ms. */
  durationMs: number;
  /** Completed requests per second of `durationMs`. */
  requestThroughput: number;
  /** Output tokens of completed requests per second of `durationMs`. */
  outputTokenThroughput: number;
  totalOutputTokens: number;
  totalPromptTokens: number;
  /** Over completed requests; absent when none completed (or none streamed any text). */
  timeToFirstTokenMs?: LoadDistribution;
  /** (end-to-end − TTFT) ÷ (output tokens − 1), over completed requests with more than one output token. */
  timePerOutputTokenMs?: LoadDistribution;
  /** Every inter-chunk gap of every completed request, pooled. */
  interTokenLatencyMs?: LoadDistribution;
  endToEndLatencyMs?: LoadDistribution;
  failures: LoadFailure[];
  /** Every request, in arrival order. */
  records: LoadRequestRecord[];
}

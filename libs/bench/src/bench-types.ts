import type {
  BackendId,
  ChatMessage,
  CoderBackend,
  FinishReason,
  GenerateResult,
  NerionErrorCode,
  ReplicaStatus,
} from '@nerion/backend-core';
import type { LoadArrivals, LoadReport } from './load/load-types.js';

/** Creates the backend that serves `model` (the bench closes it when the combination is done). */
export type CreateBenchBackend = (
  backend: BackendId,
  model: string,
  options: { signal: AbortSignal },
) => Promise<CoderBackend>;

/** How a combination ended. Everything but `ok` renders as `n/a` in the table. */
export type BenchStatus = 'ok' | 'unavailable' | 'timeout' | 'error';

/** The step a combination was in when it finished or was cut. */
export type BenchPhase = 'create' | 'probe' | 'load' | 'warmup' | 'run' | 'ttft' | 'done';

export interface RunBenchOptions {
  /** Backends to measure, in the order the rows should come out (outer loop). */
  backends: readonly BackendId[];
  /** Models to measure on every backend (inner loop). */
  models: readonly string[];
  /** Makes a backend for one combination; the bench stays engine-free. */
  createBackend: CreateBenchBackend;
  /** The user message sent on every run. Default {@link DEFAULT_BENCH_PROMPT}. */
  prompt?: string;
  /** Full chat messages instead of `prompt` (a system prompt, a few-shot example, …). */
  messages?: readonly ChatMessage[];
  /** Generated-token limit of every run. Default {@link DEFAULT_BENCH_MAX_TOKENS}. */
  maxTokens?: number;
  /** Measured runs per combination (≥ 1). Default 3. */
  runs?: number;
  /** Warm-up runs per combination (≥ 0); the first one is timed as part of the load. Default 1. */
  warmup?: number;
  /** Wall-clock budget of one whole combination (create + probe + warm-up + runs). Default 120 000. */
  timeoutMs?: number;
  /** Budget of the probe inside that (never more than timeoutMs). Default 15 000. */
  probeTimeoutMs?: number;
  /** Aborting stops the bench: the combination in flight is cut and runBench rejects with ABORTED. */
  signal?: AbortSignal;
  /** Called as each combination finishes, in order (rows can stream out). */
  onResult?: (result: BenchResult, index: number, total: number) => void;
  /** Called at every step, for progress lines. */
  onProgress?: (event: BenchProgress) => void;
  /** Things the caller should know that belong to no row (a backend created after its combination was cut failed to close, …). */
  onWarning?: (message: string) => void;
  /**
   * A task timed instead of one `generate()` with `messages` (e.g. planning an instruction: `--task plan`).
   * Each warm-up and measured run is one `task.run()`; its quality (valid / right) is summed per combination.
   */
  task?: BenchTask;
  /**
   * Load mode: instead of `runs` sequential requests timed by tinybench, each combination gets
   * `requests` streamed requests at most `concurrency` at a time (see runLoad), after its warm-up.
   * `timeoutMs` then bounds each request (and the set-up: create, probe, warm-up); the combination as a
   * whole is bounded by timeoutMs × (1 + ⌈requests ÷ concurrency⌉) plus the last scheduled arrival.
   */
  loadTest?: LoadTestSettings;
}

/** Load mode's settings (`--concurrency N --requests M [--rate R]`). */
export interface LoadTestSettings {
  concurrency: number;
  requests: number;
  /** Poisson arrivals per second (seeded); absent: all at once up to the concurrency cap. */
  rate?: number;
  /** Seed of the arrival times (default 0). */
  seed?: number;
}

/** A unit of work measured per run, with a quality verdict (see `BenchResult.quality`). */
export interface BenchTask {
  /** Its name in `settings.task` (`plan`). */
  name: string;
  /** Run `iteration` (0-based for measured runs; warm-ups get negative numbers). Throws like generate() would. */
  run(backend: CoderBackend, iteration: number, signal: AbortSignal): Promise<BenchTaskRun>;
}

export interface BenchTaskRun {
  /** Every generate() result the run made (the first one's TTFT, the summed tokens). */
  results: GenerateResult[];
  /** The answer was well-formed (for plans: it passed the plan schema). */
  valid: boolean;
  /** The answer was right (for plans: the evaluation set's checker said so). */
  right: boolean;
  /** What went wrong, for --json (a schema issue, the checker's reason). */
  note?: string;
}

/** Quality of a task's measured runs. */
export interface BenchQuality {
  runs: number;
  valid: number;
  right: number;
  /** valid / runs, 0..1. */
  validShare: number;
  /** right / runs, 0..1. */
  rightShare: number;
}

export interface BenchProgress {
  index: number;
  total: number;
  backend: BackendId;
  model: string;
  phase: BenchPhase;
  /** During warm-up or runs: which one (1-based) of how many. */
  iteration?: number;
  iterations?: number;
}

/** One measured request, in the order it ran. */
export interface BenchRun {
  /** Wall time of the whole `generate()` call, ms. */
  latencyMs: number;
  timeToFirstTokenMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** Decode speed: the engine's figure, else completion tokens ÷ (latency − TTFT). */
  decodeTokensPerSecond?: number;
  /** Prompt evaluation speed, only where the engine reports it. */
  promptTokensPerSecond?: number;
  finishReason: FinishReason;
  /** With a task: whether this run's answer was valid, and right, and why not. */
  valid?: boolean;
  right?: boolean;
  note?: string;
}

/** Summary statistics of one figure over the measured runs (ms unless the name says otherwise). */
export interface BenchDistribution {
  median: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

export interface BenchLoad {
  /** The headline figure: the engine's own load time when it reports one, else create + probe + first request. */
  totalMs: number;
  source: 'engine' | 'measured';
  createMs: number;
  probeMs: number;
  /** Wall time of the first warm-up request (model load + one generation); absent with warmup 0. */
  firstRequestMs?: number;
  /** What the engine reported as load time on the first request (Ollama's load_duration, …). */
  engineLoadMs?: number;
}

export interface BenchResult {
  backend: BackendId;
  /** The model as asked for. */
  model: string;
  /** The model the backend actually served (its own name), when it got that far. */
  servedModel?: string;
  /** Each replica, as the probe saw it, when the backend routes over several base URLs. */
  replicas?: readonly ReplicaStatus[];
  status: BenchStatus;
  /** For every status but `ok`: a sentence the user can act on (the probe's reason when unavailable). */
  reason?: string;
  /** The NerionError code behind `reason`, when there was one. */
  code?: NerionErrorCode;
  /** Where the combination ended. */
  phase: BenchPhase;
  /** Median wall latency of the measured runs, ms (the table's `latency_s` ×1000). */
  latencyMs?: number;
  latency?: BenchDistribution;
  timeToFirstTokenMs?: BenchDistribution;
  /** `generate`: reported by the measured runs; `stream`: from up to 3 extra streamed requests, when generate() does not report it. */
  timeToFirstTokenSource?: 'generate' | 'stream';
  decodeTokensPerSecond?: BenchDistribution;
  promptTokensPerSecond?: BenchDistribution;
  /** Median completion tokens per run. */
  completionTokens?: number;
  promptTokens?: number;
  load?: BenchLoad;
  /** With a task: the share of valid and of right answers over the measured runs. */
  quality?: BenchQuality;
  /** Load mode only: completed/failed, throughputs, TTFT/TPOT/ITL/end-to-end statistics, every request. */
  loadTest?: LoadReport;
  /** Every measured run, in order. */
  samples: BenchRun[];
  runs: number;
  warmup: number;
  /** Warnings the backend attached to its results (deduplicated). */
  warnings: string[];
  /** Wall time spent on this combination, ms. */
  elapsedMs: number;
}

export interface BenchReport {
  results: BenchResult[];
  settings: {
    backends: BackendId[];
    models: string[];
    runs: number;
    warmup: number;
    timeoutMs: number;
    maxTokens: number;
    messages: ChatMessage[];
    /** How combinations were scheduled, and why (see docs/bench.md). */
    concurrency: 'sequential';
    /** The task timed instead of generate() (`plan`), when there was one. */
    task?: string;
    /** Load mode's settings, when it ran (`requestTimeoutMs` is `timeoutMs`). */
    loadTest?: {
      concurrency: number;
      requests: number;
      rate: number | null;
      arrivals: LoadArrivals;
      seed: number;
      requestTimeoutMs: number;
    };
  };
  startedAt: string;
  elapsedMs: number;
  /** Measured with tinybench (its version) on this runtime. */
  /** tinybench times the sequential runs; load mode is timed by runLoad (per request, from `stream()`). */
  harness: { name: 'tinybench' | 'runLoad'; runtime: string };
}

/**
 * runBench: every backend × model combination, one after the other, each measured with tinybench.
 *
 * Per combination: create the backend, probe it (unavailable → a row with the probe's reason), send the
 * first warm-up request as part of the load (a lazy engine loads its model there), then the remaining
 * warm-up runs and the measured runs through a tinybench Task (one sample = one full `generate()` call, or
 * one run of `options.task` — e.g. planning one instruction — whose valid/right verdicts sum to `quality`).
 * A combination that does not finish within `timeoutMs` is cut — its signal aborts the request and the
 * bench stops waiting for it even when the backend ignores the signal — and reported, never blocking the rest.
 *
 * Combinations run sequentially, never concurrently: every local engine here (llama.cpp in process,
 * Ollama, vLLM, exllamav2 on the same host) competes for the same cores, memory bandwidth and GPU, so
 * running two at once would measure the contention, not the engine (docs/bench.md).
 */
import {
  NerionError,
  describeError,
  type BackendId,
  type ChatMessage,
  type CoderBackend,
  type GenerateRequest,
  type GenerateResult,
  type NerionErrorCode,
  raceAbort,
} from '@nerion/backend-core';
import type {
  BenchPhase,
  BenchQuality,
  BenchReport,
  BenchResult,
  BenchRun,
  BenchStatus,
  BenchTaskRun,
  RunBenchOptions,
} from './bench-types.js';
import { distribution, median } from './statistics.js';

export const DEFAULT_BENCH_PROMPT =
  'Write a Python function `add(a, b)` that returns the sum of two numbers. Reply with code only.';
export const DEFAULT_BENCH_MAX_TOKENS = 64;
export const DEFAULT_BENCH_RUNS = 3;
export const DEFAULT_BENCH_WARMUP = 1;
export const DEFAULT_BENCH_TIMEOUT_MS = 120_000;
/** Generous: the first probe of an in-process engine starts it (llama.cpp: ~1 s idle, several under load). */
export const DEFAULT_BENCH_PROBE_TIMEOUT_MS = 15_000;
/** Streamed requests used for TTFT when generate() does not report it. */
const STREAMED_TTFT_REQUESTS = 3;
/** How long a cut combination's `close()` may take before the bench moves on without it. */
const CLOSE_GRACE_MS = 2_000;

/** Error codes that mean "this combination cannot run here", as opposed to "it ran and failed". */
const UNAVAILABLE_CODES: ReadonlySet<NerionErrorCode> = new Set<NerionErrorCode>([
  'BACKEND_UNREACHABLE',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'BINDINGS_UNAVAILABLE',
  'NOT_AVAILABLE',
  'SERVER_START_FAILED',
  'CONSENT_REQUIRED',
  'UNKNOWN_MODEL',
  'CONFIG_INVALID',
]);

/** TTFT of one streamed request: the engine's own figure from the finish part, else the first text delta's arrival. */
async function streamedTimeToFirstToken(backend: CoderBackend, request: GenerateRequest): Promise<number | undefined> {
  const started = performance.now();
  let firstText: number | undefined;
  for await (const part of backend.stream(request)) {
    if (part.type === 'text-delta' && part.text.length > 0) firstText ??= performance.now() - started;
    if (part.type === 'finish') return part.result.timings.timeToFirstTokenMs ?? firstText;
  }
  return firstText;
}

function validatePositiveInteger(value: number, name: string, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new NerionError('INVALID_REQUEST', `${name} must be a whole number ≥ ${minimum}, got ${String(value)}.`, {
      data: { [name]: value },
    });
  }
}

function toRun(result: GenerateResult, latencyMs: number): BenchRun {
  const timings = result.timings;
  const ttft = timings.timeToFirstTokenMs;
  const completionTokens = result.usage.completionTokens;
  let decode = timings.decodeTokensPerSecond;
  if (decode === undefined && completionTokens !== undefined && completionTokens > 0) {
    const decodeMs = ttft !== undefined ? latencyMs - ttft : latencyMs;
    if (decodeMs > 0) decode = (completionTokens * 1000) / decodeMs;
  }
  return {
    latencyMs,
    ...(ttft === undefined ? {} : { timeToFirstTokenMs: ttft }),
    ...(result.usage.promptTokens === undefined ? {} : { promptTokens: result.usage.promptTokens }),
    ...(completionTokens === undefined ? {} : { completionTokens }),
    ...(decode === undefined ? {} : { decodeTokensPerSecond: decode }),
    ...(timings.promptTokensPerSecond === undefined ? {} : { promptTokensPerSecond: timings.promptTokensPerSecond }),
    finishReason: result.finishReason,
  };
}

/** A measured run from a task's outcome: TTFT of its first generation, tokens summed over all of them. */
function toTaskRun(outcome: BenchTaskRun, latencyMs: number, withQuality: boolean): BenchRun {
  const [first, ...rest] = outcome.results;
  const run: BenchRun = first ? toRun(first, latencyMs) : { latencyMs, finishReason: 'error' };
  if (rest.length > 0) {
    const sum = (values: (number | undefined)[]): number | undefined =>
      values.every((value) => value === undefined) ? undefined : values.reduce<number>((a, b) => a + (b ?? 0), 0);
    const completion = sum(outcome.results.map((result) => result.usage.completionTokens));
    const prompt = sum(outcome.results.map((result) => result.usage.promptTokens));
    if (completion !== undefined) run.completionTokens = completion;
    if (prompt !== undefined) run.promptTokens = prompt;
    run.finishReason = rest[rest.length - 1]!.finishReason;
  }
  if (withQuality) {
    run.valid = outcome.valid;
    run.right = outcome.right;
    if (outcome.note !== undefined) run.note = outcome.note;
  }
  return run;
}

function summariseQuality(samples: readonly BenchRun[]): BenchQuality {
  const runs = samples.length;
  const valid = samples.filter((run) => run.valid === true).length;
  const right = samples.filter((run) => run.right === true).length;
  return { runs, valid, right, validShare: runs === 0 ? 0 : valid / runs, rightShare: runs === 0 ? 0 : right / runs };
}

interface CombinationInput {
  backend: BackendId;
  model: string;
  index: number;
  total: number;
  messages: ChatMessage[];
  maxTokens: number;
  runs: number;
  warmup: number;
  timeoutMs: number;
  probeTimeoutMs: number;
}

async function measureCombination(
  input: CombinationInput,
  options: RunBenchOptions,
  outer: AbortSignal | undefined,
): Promise<BenchResult> {
  const { backend: backendId, model, runs, warmup, timeoutMs } = input;
  const startedAt = performance.now();
  const controller = new AbortController();
  const signal = controller.signal;
  let phase: BenchPhase = 'create';
  const timer = setTimeout(() => {
    controller.abort(
      new NerionError(
        'TIMEOUT',
        `${backendId}/${model} did not finish within ${timeoutMs / 1000} s (while in phase "${phase}"); raise the timeout or lower maxTokens/runs.`,
        {
          data: { backend: backendId, model, timeoutMs },
        },
      ),
    );
  }, timeoutMs);
  const onOuterAbort = (): void =>
    controller.abort(new NerionError('ABORTED', 'The bench was aborted by the caller.', { cause: outer?.reason }));
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });

  const progress = (next: BenchPhase, iteration?: number, iterations?: number): void => {
    phase = next;
    options.onProgress?.({
      index: input.index,
      total: input.total,
      backend: backendId,
      model,
      phase: next,
      ...(iteration === undefined ? {} : { iteration, iterations }),
    });
  };
  // One array shared with the result object, so a warning from close() (after the result is built) still lands in it.
  const warnings: string[] = [];
  const warn = (message: string): void => {
    if (!warnings.includes(message)) warnings.push(message);
  };
  const samples: BenchRun[] = [];
  const request = (): GenerateRequest => ({
    messages: input.messages,
    maxTokens: input.maxTokens,
    temperature: 0,
    seed: 42,
    signal,
  });
  const base = { backend: backendId, model, runs, warmup };
  const timedTask = options.task;
  /** One request: a generate() with the messages, or one run of the task. */
  const perform = async (current: CoderBackend, iteration: number): Promise<BenchTaskRun> =>
    timedTask
      ? timedTask.run(current, iteration, signal)
      : { results: [await current.generate(request())], valid: true, right: true };
  let backend: CoderBackend | undefined;
  let creation: Promise<CoderBackend> | undefined;
  let servedModel: string | undefined;

  const finish = (status: BenchStatus, extra: Partial<BenchResult>): BenchResult => ({
    ...base,
    ...(servedModel === undefined ? {} : { servedModel }),
    status,
    phase,
    samples,
    warnings,
    elapsedMs: performance.now() - startedAt,
    ...extra,
  });

  try {
    progress('create');
    let mark = performance.now();
    creation = options.createBackend(backendId, model, { signal });
    backend = await raceAbort(creation, signal);
    servedModel = backend.model;
    const createMs = performance.now() - mark;

    progress('probe');
    mark = performance.now();
    const probe = await raceAbort(
      backend.probe({ timeoutMs: Math.min(input.probeTimeoutMs, timeoutMs), signal }),
      signal,
    );
    const probeMs = performance.now() - mark;
    if (!probe.available || probe.modelAvailable === false) {
      const reason =
        probe.reason ??
        (probe.available
          ? `${backendId} answers but does not have model "${backend.model}"; provision it with \`nerion models ensure --backend ${backendId} --model ${model}\`.`
          : `${backendId} is not available (its probe gave no reason).`);
      return finish('unavailable', { reason });
    }

    let firstRequestMs: number | undefined;
    let engineLoadMs: number | undefined;
    if (warmup > 0) {
      progress('load', 1, warmup);
      mark = performance.now();
      const firstRun = await raceAbort(perform(backend, -1), signal);
      firstRequestMs = performance.now() - mark;
      const first = firstRun.results[0];
      engineLoadMs = first?.timings.loadMs;
      for (const warning of firstRun.results.flatMap((result) => result.warnings)) warn(warning);
      servedModel = first?.model || servedModel;
    }
    const load =
      engineLoadMs !== undefined
        ? {
            totalMs: engineLoadMs,
            source: 'engine' as const,
            createMs,
            probeMs,
            engineLoadMs,
            ...(firstRequestMs === undefined ? {} : { firstRequestMs }),
          }
        : {
            totalMs: createMs + probeMs + (firstRequestMs ?? 0),
            source: 'measured' as const,
            createMs,
            probeMs,
            ...(firstRequestMs === undefined ? {} : { firstRequestMs }),
          };

    // The remaining warm-up runs and the measured runs, timed by tinybench (exactly `runs` samples: time budget 0).
    const { Bench } = await import('tinybench');
    const rest = warmup - 1;
    const bench = new Bench({
      name: `${backendId}/${model}`,
      iterations: runs,
      time: 0,
      warmup: rest > 0,
      warmupIterations: Math.max(rest, 0),
      warmupTime: 0,
      retainSamples: true,
      throws: true,
      signal,
    });
    let mode: 'warmup' | 'run' = 'warmup';
    let count = 0;
    const currentBackend = backend;
    bench.add(
      `${backendId}/${model}`,
      async () => {
        count += 1;
        progress(mode, mode === 'warmup' ? count + 1 : count, mode === 'warmup' ? warmup : runs);
        const began = performance.now();
        const outcome = await perform(currentBackend, mode === 'run' ? count - 1 : -1 - count);
        const latencyMs = performance.now() - began;
        for (const warning of outcome.results.flatMap((result) => result.warnings)) warn(warning);
        if (mode === 'run') samples.push(toTaskRun(outcome, latencyMs, timedTask !== undefined));
      },
      {
        async: true,
        beforeAll: (hookMode) => {
          mode = hookMode === 'warmup' ? 'warmup' : 'run';
          count = 0;
        },
      },
    );
    await raceAbort(bench.run(), signal);
    const task = bench.tasks[0]!;
    const result = task.result;
    if (result.state !== 'completed') {
      throw new NerionError('INTERNAL', `tinybench ended the ${backendId}/${model} task in state "${result.state}".`);
    }
    // tinybench's samples (sorted) are the latency figures; ours carry the per-run details in order.
    const latencySamples = result.latency.samples ?? samples.map((run) => run.latencyMs);
    const latency = distribution(latencySamples)!;
    progress('done');
    let ttft = distribution(samples.map((run) => run.timeToFirstTokenMs));
    let ttftSource: 'generate' | 'stream' | undefined = ttft ? 'generate' : undefined;
    if (!ttft && !timedTask) {
      // The engine's generate() does not report TTFT (a non-streaming HTTP call): take it from a few
      // streamed requests instead — extra requests, never counted in the latency.
      const streamed: number[] = [];
      const count = Math.min(runs, STREAMED_TTFT_REQUESTS);
      for (let index = 1; index <= count; index += 1) {
        progress('ttft', index, count);
        const value = await raceAbort(streamedTimeToFirstToken(currentBackend, request()), signal);
        if (value !== undefined) streamed.push(value);
      }
      ttft = distribution(streamed);
      if (ttft) ttftSource = 'stream';
    }
    const decode = distribution(samples.map((run) => run.decodeTokensPerSecond));
    const promptSpeed = distribution(samples.map((run) => run.promptTokensPerSecond));
    const completionTokens = median(samples.map((run) => run.completionTokens));
    const promptTokens = median(samples.map((run) => run.promptTokens));
    const quality = timedTask ? summariseQuality(samples) : undefined;
    return finish('ok', {
      ...(quality ? { quality } : {}),
      latencyMs: latency.median,
      latency,
      ...(ttft ? { timeToFirstTokenMs: ttft, timeToFirstTokenSource: ttftSource } : {}),
      ...(decode ? { decodeTokensPerSecond: decode } : {}),
      ...(promptSpeed ? { promptTokensPerSecond: promptSpeed } : {}),
      ...(completionTokens === undefined ? {} : { completionTokens }),
      ...(promptTokens === undefined ? {} : { promptTokens }),
      load,
    });
  } catch (error) {
    const cut = signal.aborted ? signal.reason : undefined;
    if (NerionError.hasCode(cut, 'ABORTED') && outer?.aborted) throw cut;
    if (NerionError.hasCode(cut, 'TIMEOUT')) return finish('timeout', { reason: cut.message, code: 'TIMEOUT' });
    if (NerionError.isInstance(error)) {
      const status: BenchStatus = UNAVAILABLE_CODES.has(error.code)
        ? 'unavailable'
        : error.code === 'TIMEOUT'
          ? 'timeout'
          : 'error';
      return finish(status, { reason: error.message, code: error.code });
    }
    return finish('error', { reason: `${backendId}/${model} failed: ${describeError(error)}` });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
    if (!signal.aborted) controller.abort(new NerionError('ABORTED', 'The combination is finished.'));
    const closeFailure = await closeBackend(backend, creation, options.onWarning);
    if (closeFailure) warn(closeFailure);
  }
}

/**
 * Closes the backend — or the one still being created when the combination was cut — waiting at most
 * CLOSE_GRACE_MS, so a backend that hangs in close() cannot block the next combination.
 * Returns a warning when close() failed.
 */
async function closeBackend(
  backend: CoderBackend | undefined,
  creation: Promise<CoderBackend> | undefined,
  onWarning: ((message: string) => void) | undefined,
): Promise<string | undefined> {
  if (backend === undefined) {
    // Never created: either creation failed (its error is the row's reason already) or it was cut and is
    // still pending; a backend that arrives late is closed in the background.
    creation?.then(
      (late) =>
        late
          .close()
          .then(undefined, (error: unknown) =>
            onWarning?.(`closing ${late.id}/${late.model} after its timeout failed: ${describeError(error)}`),
          ),
      () => undefined,
    );
    return undefined;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`closing ${backend.id}/${backend.model} took longer than ${CLOSE_GRACE_MS} ms; the bench moved on`),
      CLOSE_GRACE_MS,
    );
    timer.unref?.();
  });
  const closing = backend.close().then(
    () => undefined,
    (error: unknown) => `closing ${backend.id}/${backend.model} failed: ${describeError(error)}`,
  );
  const outcome = await Promise.race([closing, grace]);
  clearTimeout(timer);
  return outcome;
}

/**
 * Measures every backend × model combination (backends outer, models inner, in the order given) and
 * reports each one through `onResult` as soon as it is done. Rejects only for invalid options
 * (INVALID_REQUEST) or when `signal` aborts (ABORTED); an unavailable, failing or hanging combination
 * becomes a result row instead.
 */
export async function runBench(options: RunBenchOptions): Promise<BenchReport> {
  const runs = options.runs ?? DEFAULT_BENCH_RUNS;
  const warmup = options.warmup ?? DEFAULT_BENCH_WARMUP;
  const timeoutMs = options.timeoutMs ?? DEFAULT_BENCH_TIMEOUT_MS;
  const maxTokens = options.maxTokens ?? DEFAULT_BENCH_MAX_TOKENS;
  validatePositiveInteger(runs, 'runs', 1);
  validatePositiveInteger(warmup, 'warmup', 0);
  validatePositiveInteger(maxTokens, 'maxTokens', 1);
  if (!(timeoutMs > 0))
    throw new NerionError('INVALID_REQUEST', `timeoutMs must be a positive number, got ${String(timeoutMs)}.`);
  if (options.backends.length === 0) throw new NerionError('INVALID_REQUEST', 'Give at least one backend to bench.');
  if (options.models.length === 0) throw new NerionError('INVALID_REQUEST', 'Give at least one model to bench.');
  if (options.messages !== undefined && options.prompt !== undefined) {
    throw new NerionError('INVALID_REQUEST', 'Give either `prompt` or `messages` to runBench, not both.');
  }
  const messages: ChatMessage[] = options.messages
    ? [...options.messages]
    : [{ role: 'user', content: options.prompt ?? DEFAULT_BENCH_PROMPT }];
  if (messages.length === 0)
    throw new NerionError('INVALID_REQUEST', '`messages` is empty; give at least one chat message.');

  const outer = options.signal;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const total = options.backends.length * options.models.length;
  const results: BenchResult[] = [];
  for (const backend of options.backends) {
    for (const model of options.models) {
      if (outer?.aborted)
        throw new NerionError('ABORTED', 'The bench was aborted by the caller.', { cause: outer.reason });
      const result = await measureCombination(
        {
          backend,
          model,
          index: results.length,
          total,
          messages,
          maxTokens,
          runs,
          warmup,
          timeoutMs,
          probeTimeoutMs: options.probeTimeoutMs ?? DEFAULT_BENCH_PROBE_TIMEOUT_MS,
        },
        options,
        outer,
      );
      results.push(result);
      options.onResult?.(result, results.length - 1, total);
    }
  }
  return {
    results,
    settings: {
      backends: [...options.backends],
      models: [...options.models],
      runs,
      warmup,
      timeoutMs,
      maxTokens,
      messages,
      concurrency: 'sequential',
      ...(options.task ? { task: options.task.name } : {}),
    },
    startedAt,
    elapsedMs: performance.now() - started,
    harness: { name: 'tinybench', runtime: `node ${process.version}` },
  };
}

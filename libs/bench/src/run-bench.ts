/**
 * runBench: every backend × model combination, one after the other, each measured with tinybench.
 *
 * Per combination, one function per phase: create the backend (createPhase), probe it (probePhase;
 * unavailable → a row with the probe's reason), send the first warm-up request as part of the load
 * (loadPhase: a lazy engine loads its model there), then the remaining warm-up runs and the measured runs
 * through a tinybench Task (runsPhase; one sample = one full `generate()` call, or one run of `options.task` —
 * e.g. planning one instruction — whose valid/right verdicts sum to `quality`), then TTFT (ttftPhase).
 * In load mode (`loadTest`), the measured runs and TTFT phases give way to the remaining warm-ups
 * (warmupPhase) and runLoad (loadTestPhase): `requests` streamed requests at most `concurrency` at a time.
 * The caller's abort and the time limit are core's RequestLifecycle and raceAbort.
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
  type ReplicaStatus,
  RequestLifecycle,
  raceAbort,
} from '@nerion/backend-core';
import type {
  BenchDistribution,
  BenchLoad,
  BenchPhase,
  BenchQuality,
  BenchReport,
  BenchResult,
  BenchRun,
  BenchStatus,
  BenchTaskRun,
  LoadTestSettings,
  RunBenchOptions,
} from './bench-types.js';
import { distribution, median } from './statistics.js';
import { arrivalOffsets } from './load/arrivals.js';
import type { LoadReport } from './load/load-types.js';
import { runLoad } from './load/run-load.js';

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
    run.finishReason = rest[rest.length - 1].finishReason;
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
  /** Load mode's settings (validated), when it is on. */
  loadTest?: LoadTestSettings;
}

/** What every phase of one combination shares: its signal, progress, warnings and measured runs. */
interface Combination {
  readonly input: CombinationInput;
  readonly options: RunBenchOptions;
  /** Aborts on the caller's signal, at `timeoutMs` (TIMEOUT naming the phase), and when the combination ends. */
  readonly signal: AbortSignal;
  phase: BenchPhase;
  servedModel: string | undefined;
  /** Each replica as the probe saw it, when the backend routes over several base URLs. */
  replicas: readonly ReplicaStatus[] | undefined;
  /** Shared with the result object, so a warning from close() (after the result is built) still lands in it. */
  readonly warnings: string[];
  readonly samples: BenchRun[];
  progress(next: BenchPhase, iteration?: number, iterations?: number): void;
  warn(message: string): void;
  request(): GenerateRequest;
}

function startCombination(input: CombinationInput, options: RunBenchOptions, lifecycle: RequestLifecycle): Combination {
  const combination: Combination = {
    input,
    options,
    signal: lifecycle.signal,
    phase: 'create',
    servedModel: undefined,
    replicas: undefined,
    warnings: [],
    samples: [],
    progress(next, iteration, iterations) {
      combination.phase = next;
      options.onProgress?.({
        index: input.index,
        total: input.total,
        backend: input.backend,
        model: input.model,
        phase: next,
        ...(iteration === undefined ? {} : { iteration, iterations }),
      });
    },
    warn(message) {
      if (!combination.warnings.includes(message)) combination.warnings.push(message);
    },
    request: () => ({
      messages: input.messages,
      maxTokens: input.maxTokens,
      temperature: 0,
      seed: 42,
      signal: lifecycle.signal,
    }),
  };
  return combination;
}

/** One request of a combination: a generate() with the messages, or one run of the caller's task. */
async function perform(combination: Combination, backend: CoderBackend, iteration: number): Promise<BenchTaskRun> {
  const task = combination.options.task;
  return task
    ? task.run(backend, iteration, combination.signal)
    : { results: [await backend.generate(combination.request())], valid: true, right: true };
}

/** Phase "create": the caller's factory, raced against the combination's signal. */
async function createPhase(
  combination: Combination,
  pending: (creation: Promise<CoderBackend>) => void,
): Promise<{ backend: CoderBackend; createMs: number }> {
  const { input, options, signal } = combination;
  combination.progress('create');
  const mark = performance.now();
  const creation = options.createBackend(input.backend, input.model, { signal });
  pending(creation);
  const backend = await raceAbort(creation, signal);
  combination.servedModel = backend.model;
  return { backend, createMs: performance.now() - mark };
}

/** Phase "probe": the reason the combination cannot run here, if it cannot. */
async function probePhase(
  combination: Combination,
  backend: CoderBackend,
): Promise<{ probeMs: number; unavailable?: string }> {
  const { input, signal } = combination;
  combination.progress('probe');
  const mark = performance.now();
  const probe = await raceAbort(
    backend.probe({ timeoutMs: Math.min(input.probeTimeoutMs, input.timeoutMs), signal }),
    signal,
  );
  const probeMs = performance.now() - mark;
  combination.replicas = probe.replicas;
  if (probe.available && probe.modelAvailable !== false) return { probeMs };
  const unavailable =
    probe.reason ??
    (probe.available
      ? `${input.backend} answers but does not have model "${backend.model}"; provision it with \`nerion models ensure --backend ${input.backend} --model ${input.model}\`.`
      : `${input.backend} is not available (its probe gave no reason).`);
  return { probeMs, unavailable };
}

/** Phase "load": the first warm-up request (a lazy engine loads its model there), kept apart from latency. */
async function loadPhase(
  combination: Combination,
  backend: CoderBackend,
  createMs: number,
  probeMs: number,
): Promise<BenchLoad> {
  const { input, signal } = combination;
  let firstRequestMs: number | undefined;
  let engineLoadMs: number | undefined;
  if (input.warmup > 0) {
    combination.progress('load', 1, input.warmup);
    const mark = performance.now();
    const firstRun = await raceAbort(perform(combination, backend, -1), signal);
    firstRequestMs = performance.now() - mark;
    const first = firstRun.results[0];
    engineLoadMs = first?.timings.loadMs;
    for (const warning of firstRun.results.flatMap((result) => result.warnings)) combination.warn(warning);
    combination.servedModel = first?.model || combination.servedModel;
  }
  return engineLoadMs !== undefined
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
}

/**
 * Phases "warmup" and "run": the remaining warm-up runs and the measured runs, timed by tinybench (exactly
 * `runs` samples: time budget 0). Returns the latency distribution; the per-run details go to `samples`.
 */
async function runsPhase(combination: Combination, backend: CoderBackend): Promise<BenchDistribution> {
  const { input, signal, samples } = combination;
  const name = `${input.backend}/${input.model}`;
  const { Bench } = await import('tinybench');
  const rest = input.warmup - 1;
  const bench = new Bench({
    name,
    iterations: input.runs,
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
  bench.add(
    name,
    async () => {
      count += 1;
      combination.progress(mode, mode === 'warmup' ? count + 1 : count, mode === 'warmup' ? input.warmup : input.runs);
      const began = performance.now();
      const outcome = await perform(combination, backend, mode === 'run' ? count - 1 : -1 - count);
      const latencyMs = performance.now() - began;
      for (const warning of outcome.results.flatMap((result) => result.warnings)) combination.warn(warning);
      if (mode === 'run') samples.push(toTaskRun(outcome, latencyMs, combination.options.task !== undefined));
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
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') {
    throw new NerionError('INTERNAL', `tinybench ended the ${name} task in state "${result.state}".`);
  }
  // tinybench's samples (sorted) are the latency figures; ours carry the per-run details in order.
  return distribution(result.latency.samples ?? samples.map((run) => run.latencyMs))!;
}

/**
 * Phase "ttft": time to first token from the measured runs when generate() reports it; else from a few
 * streamed requests (a non-streaming HTTP call cannot) — extra requests, never counted in the latency.
 */
async function ttftPhase(
  combination: Combination,
  backend: CoderBackend,
): Promise<{ ttft?: BenchDistribution; source?: 'generate' | 'stream' }> {
  const fromRuns = distribution(combination.samples.map((run) => run.timeToFirstTokenMs));
  if (fromRuns) return { ttft: fromRuns, source: 'generate' };
  // A task's runs are not plain requests: no extra streamed requests for it.
  if (combination.options.task) return {};
  const streamed: number[] = [];
  const count = Math.min(combination.input.runs, STREAMED_TTFT_REQUESTS);
  for (let index = 1; index <= count; index += 1) {
    combination.progress('ttft', index, count);
    const value = await raceAbort(streamedTimeToFirstToken(backend, combination.request()), combination.signal);
    if (value !== undefined) streamed.push(value);
  }
  const ttft = distribution(streamed);
  return ttft ? { ttft, source: 'stream' } : {};
}

/** Phase "warmup" in load mode: the warm-up requests after the first (which loadPhase sent), one at a time. */
async function warmupPhase(combination: Combination, backend: CoderBackend): Promise<void> {
  const { input, signal } = combination;
  for (let index = 2; index <= input.warmup; index += 1) {
    combination.progress('warmup', index, input.warmup);
    const result = await raceAbort(backend.generate(combination.request()), signal);
    for (const warning of result.warnings) combination.warn(warning);
  }
}

/** Phase "run" in load mode: runLoad over the backend; progress counts the requests that ended. */
async function loadTestPhase(
  combination: Combination,
  backend: CoderBackend,
  settings: LoadTestSettings,
): Promise<LoadReport> {
  const { input, signal } = combination;
  combination.progress('run', 0, settings.requests);
  const { signal: _unused, ...request } = combination.request();
  return runLoad({
    backend,
    requests: settings.requests,
    concurrency: settings.concurrency,
    ...(settings.rate === undefined ? {} : { rate: settings.rate }),
    seed: settings.seed ?? 0,
    request: () => ({ ...request }),
    requestTimeoutMs: input.timeoutMs,
    signal,
    onRequest: (_record, done, total) => combination.progress('run', done, total),
  });
}

/** The whole-combination bound in load mode: every request is cut at timeoutMs, so this is never the binding limit when the run is healthy. */
function loadModeBudgetMs(timeoutMs: number, settings: LoadTestSettings): number {
  const offsets = arrivalOffsets(settings.requests, settings.rate, settings.seed ?? 0);
  const lastArrival = offsets.length > 0 ? offsets[offsets.length - 1] : 0;
  return timeoutMs * (1 + Math.ceil(settings.requests / settings.concurrency)) + lastArrival;
}

async function measureCombination(
  input: CombinationInput,
  options: RunBenchOptions,
  outer: AbortSignal | undefined,
): Promise<BenchResult> {
  const { backend: backendId, model, runs, warmup } = input;
  const timeoutMs = input.loadTest ? loadModeBudgetMs(input.timeoutMs, input.loadTest) : input.timeoutMs;
  const startedAt = performance.now();
  // The caller's signal and the combination's time limit, as core's RequestLifecycle (same as a request's).
  const lifecycle = new RequestLifecycle({ ...(outer ? { signal: outer } : {}), timeoutMs }, 'bench', {
    timeoutMessage: () =>
      `${backendId}/${model} did not finish within ${Math.round(timeoutMs) / 1000} s (while in phase "${run.phase}"); raise the timeout or lower maxTokens/${input.loadTest ? 'requests' : 'runs'}.`,
    // A hung in-process engine may hold no handle: the time limit itself keeps the bench alive.
    keepAlive: true,
  });
  const run: Combination = startCombination(input, options, lifecycle);
  const { signal, samples, warnings } = run;
  let backend: CoderBackend | undefined;
  let creation: Promise<CoderBackend> | undefined;
  const finish = (status: BenchStatus, extra: Partial<BenchResult>): BenchResult => ({
    backend: backendId,
    model,
    runs,
    warmup,
    ...(run.servedModel === undefined ? {} : { servedModel: run.servedModel }),
    ...(run.replicas === undefined ? {} : { replicas: run.replicas }),
    status,
    phase: run.phase,
    samples,
    warnings,
    elapsedMs: performance.now() - startedAt,
    ...extra,
  });

  try {
    const created = await createPhase(run, (pending) => {
      creation = pending;
    });
    backend = created.backend;
    const { probeMs, unavailable } = await probePhase(run, backend);
    if (unavailable !== undefined) return finish('unavailable', { reason: unavailable });
    const load = await loadPhase(run, backend, created.createMs, probeMs);
    if (input.loadTest) {
      await warmupPhase(run, backend);
      const loadTest = await loadTestPhase(run, backend, input.loadTest);
      run.progress('done');
      if (loadTest.completed === 0) {
        const first = loadTest.failures[0];
        return finish('error', {
          reason: `all ${loadTest.requests} requests failed: ${first?.reason ?? 'no reason given'}`,
          ...(first?.code === undefined ? {} : { code: first.code }),
          load,
          loadTest,
        });
      }
      return finish('ok', { load, loadTest });
    }
    const latency = await runsPhase(run, backend);
    run.progress('done');
    const { ttft, source: ttftSource } = await ttftPhase(run, backend);
    const decode = distribution(samples.map((sample) => sample.decodeTokensPerSecond));
    const promptSpeed = distribution(samples.map((sample) => sample.promptTokensPerSecond));
    const completionTokens = median(samples.map((sample) => sample.completionTokens));
    const promptTokens = median(samples.map((sample) => sample.promptTokens));
    const quality = options.task ? summariseQuality(samples) : undefined;
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
    const cut = signal.aborted ? (signal.reason as unknown) : undefined;
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
    lifecycle.end(new NerionError('ABORTED', 'The combination is finished.'));
    const closeFailure = await closeBackend(backend, creation, options.onWarning);
    if (closeFailure) run.warn(closeFailure);
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
  const loadTest = options.loadTest;
  if (loadTest && options.task)
    throw new NerionError(
      'INVALID_REQUEST',
      `Load mode sends plain streamed requests; it does not run the "${options.task.name}" task. Give either \`loadTest\` or \`task\` to runBench, not both.`,
    );
  if (loadTest) {
    validatePositiveInteger(loadTest.concurrency, 'concurrency', 1);
    validatePositiveInteger(loadTest.requests, 'requests', 1);
    if (loadTest.rate !== undefined && !(loadTest.rate > 0))
      throw new NerionError(
        'INVALID_REQUEST',
        `rate must be a positive number of requests per second, got ${String(loadTest.rate)}.`,
      );
    if (loadTest.seed !== undefined && !Number.isInteger(loadTest.seed))
      throw new NerionError('INVALID_REQUEST', `seed must be a whole number, got ${String(loadTest.seed)}.`);
  }

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
          ...(loadTest ? { loadTest } : {}),
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
      ...(loadTest
        ? {
            loadTest: {
              concurrency: loadTest.concurrency,
              requests: loadTest.requests,
              rate: loadTest.rate ?? null,
              arrivals: loadTest.rate === undefined ? ('burst' as const) : ('poisson' as const),
              seed: loadTest.seed ?? 0,
              requestTimeoutMs: timeoutMs,
            },
          }
        : {}),
    },
    startedAt,
    elapsedMs: performance.now() - started,
    harness: { name: loadTest ? 'runLoad' : 'tinybench', runtime: `node ${process.version}` },
  };
}

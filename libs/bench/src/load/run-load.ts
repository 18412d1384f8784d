/**
 * runLoad: a bounded load generator over one CoderBackend, timing every request from its `stream()`.
 *
 * `requests` requests in all, at most `concurrency` in flight. Without a rate every request is due at once
 * and they go out as fast as the cap lets them (a closed loop of `concurrency` clients); with a rate,
 * arrivals follow a seeded Poisson process and the cap still applies (an open loop, as `vllm bench serve
 * --request-rate R --max-concurrency N`). Each request has its own budget (`requestTimeoutMs`): past it the
 * request is aborted through its signal, the runner stops waiting for it even if the backend ignores the
 * signal, and it counts as failed with a TIMEOUT reason. A request that fails for any other reason (a server
 * killed mid-run, a broken stream, a refused request) is recorded with its reason; the run goes on.
 *
 * Per request, on the client side: TTFT = sending → first non-empty text part; ITL = the gaps between
 * successive text parts; end-to-end = sending → end of the stream; output tokens = the engine's count from
 * the finish part (else the number of text parts). The report's statistics are those of `vllm bench serve`
 * (see load-statistics.ts).
 */
import { NerionError, describeError, raceAbort, sleep, type CoderBackend, type StreamPart } from '@nerion/backend-core';
import { arrivalOffsets } from './arrivals.js';
import { summarizeLoad } from './load-statistics.js';
import type { LoadOptions, LoadReport, LoadRequestRecord } from './load-types.js';

function validate(options: LoadOptions): void {
  const whole = (value: number, name: string): void => {
    if (!Number.isInteger(value) || value < 1)
      throw new NerionError('INVALID_REQUEST', `${name} must be a whole number ≥ 1, got ${String(value)}.`, {
        data: { [name]: value },
      });
  };
  whole(options.requests, 'requests');
  whole(options.concurrency, 'concurrency');
  if (options.rate !== undefined && !(options.rate > 0))
    throw new NerionError(
      'INVALID_REQUEST',
      `rate must be a positive number of requests per second, got ${String(options.rate)}.`,
      {
        data: { rate: options.rate },
      },
    );
  if (!(options.requestTimeoutMs > 0))
    throw new NerionError(
      'INVALID_REQUEST',
      `requestTimeoutMs must be a positive number, got ${String(options.requestTimeoutMs)}.`,
    );
  if (options.seed !== undefined && !Number.isInteger(options.seed))
    throw new NerionError('INVALID_REQUEST', `seed must be a whole number, got ${String(options.seed)}.`);
}

/** A counting semaphore: at most `size` holders; waiters are served in order. */
class Slots {
  private free: number;
  private readonly waiters: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free += 1;
  }
}

interface OneRequest {
  backend: CoderBackend;
  options: LoadOptions;
  index: number;
  scheduledMs: number;
  runStart: number;
  runSignal: AbortSignal;
}

async function timeOneRequest({
  backend,
  options,
  index,
  scheduledMs,
  runStart,
  runSignal,
}: OneRequest): Promise<LoadRequestRecord> {
  const controller = new AbortController();
  const timeoutMs = options.requestTimeoutMs;
  const timer = setTimeout(() => {
    controller.abort(
      new NerionError(
        'TIMEOUT',
        `The request did not finish within ${timeoutMs / 1000} s; raise the timeout (--timeout) or lower maxTokens.`,
        { data: { timeoutMs } },
      ),
    );
  }, timeoutMs);
  const onRunAbort = (): void => controller.abort(runSignal.reason);
  if (runSignal.aborted) onRunAbort();
  runSignal.addEventListener('abort', onRunAbort, { once: true });
  const signal = controller.signal;

  const sent = performance.now();
  const interTokenLatenciesMs: number[] = [];
  let firstMs: number | undefined;
  let last = 0;
  let chunks = 0;
  let iterator: AsyncIterator<StreamPart> | undefined;
  const base = { index, scheduledMs, startedMs: sent - runStart, interTokenLatenciesMs };
  try {
    iterator = backend.stream({ ...options.request(index), signal })[Symbol.asyncIterator]();
    let finish: Extract<StreamPart, { type: 'finish' }> | undefined;
    for (;;) {
      const step = await raceAbort(iterator.next(), signal);
      if (step.done) break;
      const part = step.value;
      if (part.type === 'text-delta' && part.text.length > 0) {
        const now = performance.now();
        if (firstMs === undefined) firstMs = now - sent;
        else interTokenLatenciesMs.push(now - last);
        last = now;
        chunks += 1;
      } else if (part.type === 'finish') {
        finish = part;
      }
    }
    const endToEndMs = performance.now() - sent;
    if (!finish) throw new NerionError('INVALID_OUTPUT', 'The stream ended without a finish part.');
    const usage = finish.result.usage;
    const fromUsage = usage.completionTokens !== undefined;
    return {
      ...base,
      ok: true,
      ...(firstMs === undefined ? {} : { timeToFirstTokenMs: firstMs }),
      endToEndMs,
      outputTokens: fromUsage ? usage.completionTokens! : chunks,
      outputTokensSource: fromUsage ? 'usage' : 'chunks',
      ...(usage.promptTokens === undefined ? {} : { promptTokens: usage.promptTokens }),
    };
  } catch (error) {
    const endToEndMs = performance.now() - sent;
    // When our signal fired, its reason (TIMEOUT, or the run's ABORTED) is the cause, whatever the backend threw.
    const cause: unknown = signal.aborted ? signal.reason : error;
    // A generator cut while waiting is told to finish; never awaited (a hung backend may never answer).
    if (signal.aborted) iterator?.return?.().catch(() => undefined);
    return {
      ...base,
      ok: false,
      ...(firstMs === undefined ? {} : { timeToFirstTokenMs: firstMs }),
      endToEndMs,
      reason: describeError(cause),
      ...(NerionError.isInstance(cause) ? { code: cause.code } : {}),
    };
  } finally {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', onRunAbort);
  }
}

/**
 * Sends `requests` requests to `backend` under the given concurrency and arrival rate, and reports what
 * `vllm bench serve` reports. Rejects only for invalid options (INVALID_REQUEST) or when `signal` aborts
 * (ABORTED, after cutting the requests in flight); every failing request is a record with its reason.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  validate(options);
  const rate = options.rate === Number.POSITIVE_INFINITY ? undefined : options.rate;
  const seed = options.seed ?? 0;
  const total = options.requests;
  const offsets = arrivalOffsets(total, rate, seed);
  const run = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void =>
    run.abort(new NerionError('ABORTED', 'The load run was aborted by the caller.', { cause: outer?.reason }));
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });

  const slots = new Slots(options.concurrency);
  const records: LoadRequestRecord[] = new Array<LoadRequestRecord>(total);
  const running: Promise<void>[] = [];
  let done = 0;
  const runStart = performance.now();
  try {
    for (let index = 0; index < total; index += 1) {
      // Node's timers run on a loop clock cached in whole milliseconds, so a timer can fire up to 1 ms
      // before performance.now() reaches its due time; wait again until it has really come.
      const due = runStart + offsets[index];
      for (let remaining = due - performance.now(); remaining > 0; remaining = due - performance.now())
        await sleep(Math.max(1, Math.ceil(remaining)), run.signal);
      await raceAbort(slots.acquire(), run.signal);
      running.push(
        timeOneRequest({
          backend: options.backend,
          options,
          index,
          scheduledMs: offsets[index],
          runStart,
          runSignal: run.signal,
        }).then((record) => {
          slots.release();
          records[index] = record;
          done += 1;
          options.onRequest?.(record, done, total);
        }),
      );
    }
    await Promise.all(running);
  } catch (error) {
    await Promise.allSettled(running);
    if (run.signal.aborted) throw run.signal.reason;
    throw error;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
  if (run.signal.aborted) throw run.signal.reason;
  const durationMs = performance.now() - runStart;
  return summarizeLoad({ records, durationMs, concurrency: options.concurrency, rate, seed });
}

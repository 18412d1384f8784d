/**
 * The replay engine for the stand-in servers: it answers with a fixed text, at once or after a fixed delay
 * per part — for tests and benchmarks of what nerion adds (routing, failover, overhead, load) with generation
 * cost removed or made constant. Not a model, and named so (`instant-replay`, or the `model` given, e.g.
 * `fixed-latency-replay` in the load benchmarks). The one such engine: tests and `tools/bench` import it.
 */
import { NerionError, sleep, type CoderBackend, type GenerateRequest, type StreamPart } from '@nerion/backend-core';

/** How many streams an engine is serving now, and the most at once (pass one to count them). */
export interface InFlightCount {
  inFlight: number;
  maxInFlight: number;
}

export interface InstantEngineOptions {
  /** The text, in the parts it streams as (default: a tiny TypeScript function in 8 parts). */
  parts?: readonly string[];
  /** Delay before each part, ms (default 0: instant). The whole answer takes `parts.length × latencyMs`. */
  latencyMs?: number;
  /** The model name it reports (default `instant-replay`). */
  model?: string;
  /** Counted up while a stream runs, down when it ends. */
  inFlight?: InFlightCount;
}

export const INSTANT_ENGINE_PARTS: readonly string[] = [
  'function',
  ' add',
  '(a',
  ', b',
  ')',
  ' {',
  ' return',
  ' a + b; }',
];

/** Waits `ms`; an abort rejects with ABORTED. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (error) {
    if (!signal?.aborted) throw error;
    throw new NerionError('ABORTED', 'The generation was aborted.', { cause: error });
  }
}

export function instantEngine(options: InstantEngineOptions = {}): CoderBackend {
  const parts = options.parts ?? INSTANT_ENGINE_PARTS;
  const latencyMs = options.latencyMs ?? 0;
  const model = options.model ?? 'instant-replay';
  const seen = options.inFlight;
  const result = {
    text: parts.join(''),
    finishReason: 'stop' as const,
    usage: { promptTokens: 20, completionTokens: parts.length },
    timings:
      latencyMs > 0
        ? { totalMs: parts.length * latencyMs, timeToFirstTokenMs: latencyMs }
        : { totalMs: 0.1, timeToFirstTokenMs: 0.05 },
    model,
    warnings: [],
  };
  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    if (seen) {
      seen.inFlight += 1;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    }
    try {
      for (const text of parts) {
        if (latencyMs > 0) await pause(latencyMs, request.signal);
        yield { type: 'text-delta', text };
      }
      yield { type: 'finish', result };
    } finally {
      if (seen) seen.inFlight -= 1;
    }
  }
  return {
    specificationVersion: 'v1',
    id: 'llama_cpp',
    model,
    supportsConstrainedDecoding: false,
    probe: async () => ({ available: true }),
    generate: async (request) => {
      if (latencyMs > 0) await pause(latencyMs * parts.length, request.signal);
      return result;
    },
    stream,
    close: async () => undefined,
  };
}

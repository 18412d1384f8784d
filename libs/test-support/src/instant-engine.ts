/**
 * An engine for the stand-in servers that answers with a fixed text, at once or after a fixed delay per
 * part: for tests and benchmarks of what nerion adds (routing, failover, overhead) with generation cost
 * removed or made constant. Not a model, and named so (`instant-replay`).
 */
import { NerionError, type CoderBackend, type GenerateRequest, type StreamPart } from '@nerion/backend-core';

export interface InstantEngineOptions {
  /** The text, in the parts it streams as (default: a tiny TypeScript function in 8 parts). */
  parts?: readonly string[];
  /** Delay before each part, ms (default 0: instant). The whole answer takes `parts.length × latencyMs`. */
  latencyMs?: number;
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

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new NerionError('ABORTED', 'The generation was aborted.'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new NerionError('ABORTED', 'The generation was aborted.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function instantEngine(options: InstantEngineOptions = {}): CoderBackend {
  const parts = options.parts ?? INSTANT_ENGINE_PARTS;
  const latencyMs = options.latencyMs ?? 0;
  const result = {
    text: parts.join(''),
    finishReason: 'stop' as const,
    usage: { promptTokens: 20, completionTokens: parts.length },
    timings: { totalMs: 0.1, timeToFirstTokenMs: 0.05 },
    model: 'instant-replay',
    warnings: [],
  };
  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    for (const text of parts) {
      if (latencyMs > 0) await wait(latencyMs, request.signal);
      yield { type: 'text-delta', text };
    }
    yield { type: 'finish', result };
  }
  return {
    specificationVersion: 'v1',
    id: 'llama_cpp',
    model: 'instant-replay',
    supportsConstrainedDecoding: false,
    probe: async () => ({ available: true }),
    generate: async (request) => {
      if (latencyMs > 0) await wait(latencyMs * parts.length, request.signal);
      return result;
    },
    stream,
    close: async () => undefined,
  };
}

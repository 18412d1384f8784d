// A replay engine for the OpenAI-compatible stand-in, shared by the load benchmarks (load-scaling.ts,
// load-honesty.ts): the same 8 parts, `partMs` apart, so one request takes a fixed service time of
// 8 × partMs. Not a model, and named so (`fixed-latency-replay`).
import type { CoderBackend, GenerateRequest, StreamPart } from '@nerion/backend-core';

export const REPLAY_PARTS = ['function', ' add', '(a', ', b', ')', ' {', ' return', ' a + b; }'];

export function fixedLatencyReplayEngine(partMs: number): CoderBackend {
  const result = {
    text: REPLAY_PARTS.join(''),
    finishReason: 'stop' as const,
    usage: { promptTokens: 20, completionTokens: REPLAY_PARTS.length },
    timings: { totalMs: REPLAY_PARTS.length * partMs },
    model: 'fixed-latency-replay',
    warnings: [],
  };
  const pause = (signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, partMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
  return {
    specificationVersion: 'v1',
    id: 'llama_cpp',
    model: 'fixed-latency-replay',
    supportsConstrainedDecoding: false,
    probe: async () => ({ available: true }),
    generate: async (request: GenerateRequest) => {
      for (let index = 0; index < REPLAY_PARTS.length; index += 1) await pause(request.signal);
      return result;
    },
    async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
      for (const text of REPLAY_PARTS) {
        await pause(request.signal);
        yield { type: 'text-delta', text };
      }
      yield { type: 'finish', result };
    },
    close: async () => undefined,
  };
}

/**
 * The CoderBackend v1 conformance suite. Every backend package runs it against a real engine
 * (or, where the engine cannot run here, a protocol-faithful local server backed by a real model).
 *
 *   describeCoderBackendContract({ name: 'llama_cpp on the generated fixture', createBackend: … });
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CoderBackend, GenerateRequest, JsonSchema, StreamPart } from '../coder-backend.js';
import { NerionError, type NerionErrorCode } from '../errors.js';
import { validateJsonSchema } from '../json-output.js';

export interface CoderBackendContractOptions {
  /** Shown in test titles: say what runs, e.g. "ollama against the protocol-faithful local Ollama server". */
  name: string;
  /** A backend whose engine answers and whose model is present. Created once for the suite. */
  createBackend(): Promise<CoderBackend>;
  /** A backend pointed at nothing (no server / no file): probe must say so and generate must fail typed. */
  createUnavailableBackend?: () => Promise<CoderBackend>;
  /** A backend asked for a model the engine does not have: generate must fail with MODEL_NOT_FOUND. */
  createBackendWithMissingModel?: () => Promise<CoderBackend>;
  /** Checks, after close(), that the backend's resources are gone (child processes, sockets, model memory). */
  assertReleased?(backend: CoderBackend): Promise<void>;
  /** The bound every probe must respect (default 2000 ms) plus slack for a loaded 2-core machine. */
  probeTimeoutMs?: number;
  /** How soon an abort must end a running generation (default 2000 ms). */
  abortLatencyMs?: number;
  /** A schema for the JSON test; the default asks for a small object with bounded strings. */
  jsonSchema?: JsonSchema;
}

// Bounded by construction (enums, booleans, a capped array): a random-weight test model cannot run a
// free string or number on until maxTokens, so success depends on the backend, not on the model's luck.
const DEFAULT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    kind: { enum: ['create_file', 'insert_function', 'rename_symbol'] },
    done: { type: 'boolean' },
    tags: { type: 'array', items: { enum: ['ts', 'py', 'go'] }, maxItems: 3 },
  },
  required: ['kind', 'done', 'tags'],
  additionalProperties: false,
};

const PROMPT_MESSAGES = [
  { role: 'system' as const, content: 'You are a coding assistant.' },
  { role: 'user' as const, content: 'Write a TypeScript function that adds two numbers.' },
];

/** Resolves to the error a promise rejected with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, but it resolved');
}

function expectCode(error: unknown, codes: readonly NerionErrorCode[]): asserts error is NerionError {
  expect(NerionError.isInstance(error)).toBe(true);
  expect(codes).toContain((error as NerionError).code);
  expect((error as NerionError).message.length).toBeGreaterThan(10);
}

async function drain(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const seen: StreamPart[] = [];
  for await (const part of parts) seen.push(part);
  return seen;
}

export function describeCoderBackendContract(options: CoderBackendContractOptions): void {
  const probeBound = (options.probeTimeoutMs ?? 2000) + 1500;
  const abortBound = options.abortLatencyMs ?? 2000;
  const schema = options.jsonSchema ?? DEFAULT_SCHEMA;

  describe(`CoderBackend v1 contract: ${options.name}`, () => {
    let backend: CoderBackend;
    beforeAll(async () => {
      backend = await options.createBackend();
    });
    afterAll(async () => {
      await backend?.close();
    });

    it('declares specification v1, its id and its model', () => {
      expect(backend.specificationVersion).toBe('v1');
      // Any id is a backend id (core keeps no closed list): the suite takes it from the backend it tests.
      expect(backend.id).toMatch(/^[a-z][a-z0-9_.-]*$/);
      expect(backend.model.length).toBeGreaterThan(0);
    });

    it('probe() reports available, within its time bound, without throwing', async () => {
      const started = performance.now();
      const result = await backend.probe();
      expect(performance.now() - started).toBeLessThan(probeBound);
      expect(result.available).toBe(true);
      if (result.modelAvailable !== undefined) expect(result.modelAvailable).toBe(true);
    });

    it('generate() returns text, a finish reason, usage and timings', async () => {
      const result = await backend.generate({ messages: PROMPT_MESSAGES, maxTokens: 16, temperature: 0, seed: 7 });
      expect(result.text.length).toBeGreaterThan(0);
      expect(['stop', 'length']).toContain(result.finishReason);
      expect(result.timings.totalMs).toBeGreaterThan(0);
      if (result.timings.timeToFirstTokenMs !== undefined) {
        expect(result.timings.timeToFirstTokenMs).toBeLessThanOrEqual(result.timings.totalMs);
      }
      if (result.usage.completionTokens !== undefined) {
        expect(result.usage.completionTokens).toBeGreaterThan(0);
        expect(result.usage.completionTokens).toBeLessThanOrEqual(16);
      }
      expect(Array.isArray(result.warnings)).toBe(true);
    });

    it('generate() accepts a raw prompt too', async () => {
      const result = await backend.generate({ prompt: 'function add(a, b) {', maxTokens: 8, temperature: 0 });
      expect(typeof result.text).toBe('string');
      expect(['stop', 'length']).toContain(result.finishReason);
    });

    it('maxTokens bounds the output and reports finishReason "length"', async () => {
      // Greedy decoding of the test models runs on for thousands of tokens (see the abort case below), so
      // a 4-token cap is always the reason the generation ended.
      const result = await backend.generate({ messages: PROMPT_MESSAGES, maxTokens: 4, temperature: 0 });
      expect(result.finishReason).toBe('length');
      expect(result.text.length).toBeGreaterThan(0);
      if (result.usage.completionTokens !== undefined) expect(result.usage.completionTokens).toBe(4);
    });

    it('stream() text equals generate() text for the same greedy request, and ends with one finish part', async () => {
      const request: GenerateRequest = { messages: PROMPT_MESSAGES, maxTokens: 24, temperature: 0, seed: 11 };
      const generated = await backend.generate(request);
      const parts = await drain(backend.stream(request));
      const streamed = parts
        .filter((part) => part.type === 'text-delta')
        .map((part) => (part as { text: string }).text)
        .join('');
      expect(streamed).toBe(generated.text);
      const finishes = parts.filter((part) => part.type === 'finish');
      expect(finishes).toHaveLength(1);
      expect(parts[parts.length - 1]?.type).toBe('finish');
      const finish = finishes[0];
      expect(finish.result.text).toBe(generated.text);
    });

    // Long generations are greedy: sampled at 0.8, a random-weight test model draws its end-of-text token
    // within a few dozen tokens (seen: 8-20 ms), so it could finish before the abort or the timeout.
    it('abort stops a running generation promptly with ABORTED, and the backend stays usable', async () => {
      const controller = new AbortController();
      const parts = backend.stream({
        messages: PROMPT_MESSAGES,
        maxTokens: 4000,
        temperature: 0,
        signal: controller.signal,
      });
      let deltas = 0;
      let abortedAt = 0;
      const error = await rejection(
        (async () => {
          for await (const part of parts) {
            if (part.type === 'text-delta' && ++deltas === 2) {
              abortedAt = performance.now();
              controller.abort();
            }
          }
        })(),
      );
      expectCode(error, ['ABORTED']);
      expect(abortedAt).toBeGreaterThan(0);
      expect(performance.now() - abortedAt).toBeLessThan(abortBound);
      const after = await backend.generate({ messages: PROMPT_MESSAGES, maxTokens: 4, temperature: 0 });
      expect(['stop', 'length']).toContain(after.finishReason);
    });

    it('an already-aborted signal rejects with ABORTED', async () => {
      const controller = new AbortController();
      controller.abort();
      expectCode(
        await rejection(backend.generate({ messages: PROMPT_MESSAGES, maxTokens: 8, signal: controller.signal })),
        ['ABORTED'],
      );
    });

    it('timeoutMs cuts a long generation with TIMEOUT', async () => {
      const started = performance.now();
      const error = await rejection(
        backend.generate({ messages: PROMPT_MESSAGES, maxTokens: 4000, temperature: 0, timeoutMs: 30 }),
      );
      expectCode(error, ['TIMEOUT']);
      expect(performance.now() - started).toBeLessThan(30 + abortBound);
    });

    it('a jsonSchema request yields schema-valid JSON or a typed INVALID_OUTPUT error', async () => {
      const outcome = await backend
        .generate({
          messages: [
            { role: 'user', content: 'Reply with JSON: the action kind, whether it is done, and language tags.' },
          ],
          jsonSchema: schema,
          maxTokens: 200,
          temperature: 0,
        })
        .then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
      if ('result' in outcome) {
        const parsed: unknown = JSON.parse(outcome.result.text);
        expect(validateJsonSchema(schema, parsed)).toEqual([]);
        expect(outcome.result.json).toEqual(parsed);
      } else {
        expect(backend.supportsConstrainedDecoding).toBe(false);
        expectCode(outcome.error, ['INVALID_OUTPUT']);
      }
    });

    it('rejects a malformed request with INVALID_REQUEST', async () => {
      expectCode(await rejection(backend.generate({ maxTokens: 4 })), ['INVALID_REQUEST']);
      expectCode(await rejection(backend.generate({ prompt: 'x', maxTokens: 0 })), ['INVALID_REQUEST']);
    });

    if (options.createUnavailableBackend) {
      const createUnavailable = options.createUnavailableBackend;
      it('with nothing to talk to: probe says why (bounded, no throw) and generate fails with a typed error', async () => {
        const unavailable = await createUnavailable();
        try {
          const started = performance.now();
          const result = await unavailable.probe();
          expect(performance.now() - started).toBeLessThan(probeBound);
          expect(result.available).toBe(false);
          expect(result.reason?.length ?? 0).toBeGreaterThan(10);
          const error = await rejection(
            unavailable.generate({ messages: PROMPT_MESSAGES, maxTokens: 4, timeoutMs: 20_000 }),
          );
          expectCode(error, ['BACKEND_UNREACHABLE', 'MODEL_NOT_FOUND', 'MODEL_LOAD_FAILED', 'BINDINGS_UNAVAILABLE']);
        } finally {
          await unavailable.close();
        }
      });
    }

    if (options.createBackendWithMissingModel) {
      const createMissing = options.createBackendWithMissingModel;
      it('asked for a model the engine lacks: probe says so and generate fails with MODEL_NOT_FOUND', async () => {
        const missing = await createMissing();
        try {
          const result = await missing.probe();
          expect(result.available === false || result.modelAvailable === false).toBe(true);
          expect(result.reason?.length ?? 0).toBeGreaterThan(10);
          expectCode(await rejection(missing.generate({ messages: PROMPT_MESSAGES, maxTokens: 4 })), [
            'MODEL_NOT_FOUND',
          ]);
        } finally {
          await missing.close();
        }
      });
    }

    it('close() is idempotent, releases resources, and later calls reject with BACKEND_CLOSED', async () => {
      const closing = await options.createBackend();
      await closing.generate({ messages: PROMPT_MESSAGES, maxTokens: 2, temperature: 0 });
      await closing.close();
      await closing.close();
      if (options.assertReleased) await options.assertReleased(closing);
      expectCode(await rejection(closing.generate({ messages: PROMPT_MESSAGES, maxTokens: 2 })), ['BACKEND_CLOSED']);
      const probe = await closing.probe();
      expect(probe.available).toBe(false);
    });
  });
}

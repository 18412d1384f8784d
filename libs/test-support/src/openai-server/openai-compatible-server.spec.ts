import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fixturePaths } from '../../../../tools/fixtures/fixture-paths.mjs';
import {
  STAND_IN_VERSION,
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
} from './openai-compatible-server.js';

const post = (server: OpenAICompatibleServer, path: string, body: unknown): Promise<Response> =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the vLLM stand-in (protocol-faithful local OpenAI-compatible server, real GGUF via node-llama-cpp) speaks vLLM wire format', () => {
  let server: OpenAICompatibleServer;
  beforeAll(async () => {
    server = await startOpenAICompatibleServer({ models: { tiny: fixturePaths().tinyLlama } });
    // Warm up (the first request loads llama.cpp, seconds on a busy machine); Jest's testTimeout is a
    // global option that the multi-project run does not take from project configs, so bound it here.
    await post(server, '/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 1 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('/health is 200 with an empty body; /version and /v1/models have vLLM shapes', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    expect(await (await fetch(`${server.url}/version`)).json()).toEqual({ version: STAND_IN_VERSION });
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      object: string;
      data: Array<Record<string, unknown>>;
    };
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({
      id: 'tiny',
      object: 'model',
      owned_by: 'vllm',
      root: fixturePaths().tinyLlama,
      max_model_len: 2048,
    });
  });

  it('streams SSE data chunks: role first, deltas, finish_reason, a usage chunk, then [DONE]', async () => {
    const response = await post(server, '/v1/chat/completions', {
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = (await response.text()).split('\n\n').filter(Boolean);
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map(
      (event) =>
        JSON.parse(event.slice(6)) as {
          object: string;
          choices: Array<{ delta?: { role?: string }; finish_reason: string | null }>;
          usage?: { completion_tokens: number };
        },
    );
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta?.role).toBe('assistant');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('length');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(6);
  });

  it('an unknown model is a 404 NotFoundError body; a malformed request is a 400 BadRequestError body', async () => {
    const missing = await post(server, '/v1/chat/completions', {
      model: 'nope',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      object: 'error',
      message: 'The model `nope` does not exist.',
      type: 'NotFoundError',
      param: null,
      code: 404,
    });
    const malformed = await post(server, '/v1/chat/completions', { model: 'tiny', messages: [] });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ object: 'error', type: 'BadRequestError', code: 400 });
  });

  it('honours response_format json_schema with constrained decoding', async () => {
    const schema = {
      type: 'object',
      properties: { done: { type: 'boolean' } },
      required: ['done'],
      additionalProperties: false,
    };
    const response = await post(server, '/v1/chat/completions', {
      model: 'tiny',
      messages: [{ role: 'user', content: 'json' }],
      max_tokens: 40,
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
    });
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(typeof (JSON.parse(body.choices[0]!.message.content) as { done: unknown }).done).toBe('boolean');
  });
});

describe('the vLLM stand-in with maxConcurrentRequests (a waiting queue, as vLLM --max-num-seqs)', () => {
  it('generates for at most that many requests at once; the others wait and are all answered', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const result = {
      text: 'ok',
      finishReason: 'stop' as const,
      usage: { promptTokens: 1, completionTokens: 1 },
      timings: { totalMs: 20 },
      model: 'counting',
      warnings: [],
    };
    const server = await startOpenAICompatibleServer({
      models: { counting: 'unused.gguf' },
      maxConcurrentRequests: 1,
      createBackend: async () => ({
        specificationVersion: 'v1',
        id: 'llama_cpp',
        model: 'counting',
        supportsConstrainedDecoding: false,
        probe: async () => ({ available: true }),
        generate: async () => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 20));
          inFlight -= 1;
          return result;
        },
        async *stream() {
          yield { type: 'finish' as const, result };
        },
        close: async () => undefined,
      }),
    });
    try {
      const answers = await Promise.all(
        [1, 2, 3, 4].map(() =>
          post(server, '/v1/chat/completions', { model: 'counting', messages: [{ role: 'user', content: 'x' }] }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      expect(maxInFlight).toBe(1);
    } finally {
      await server.close();
    }
  });
});

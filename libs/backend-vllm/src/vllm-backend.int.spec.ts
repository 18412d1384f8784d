import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type JsonSchema, type StreamPart } from '@nerion/backend-core';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import {
  fixturePaths,
  startOpenAICompatibleServer,
  STAND_IN_VERSION,
  type OpenAICompatibleServer,
  closedPort,
  rejection,
} from '@nerion/test-support';
import { createVllmBackend } from './index.js';

const SERVED = 'qwen2.5-coder';
const SCHEMA: JsonSchema = {
  type: 'object',
  properties: { kind: { enum: ['create_file', 'rename_symbol'] }, done: { type: 'boolean' } },
  required: ['kind', 'done'],
  additionalProperties: false,
};

let server: OpenAICompatibleServer;
let ignoring: OpenAICompatibleServer;
let dying: OpenAICompatibleServer;
let failing: OpenAICompatibleServer;
let deadUrl: string;

beforeAll(async () => {
  const models = { [SERVED]: fixturePaths().tinyLlama, starcoder2: fixturePaths().tinyLlama };
  server = await startOpenAICompatibleServer({ models });
  ignoring = await startOpenAICompatibleServer({ models, ignoreResponseFormat: true });
  dying = await startOpenAICompatibleServer({ models, dieMidStreamAfterChunks: 2 });
  failing = await startOpenAICompatibleServer({ models, errorMidStreamAfterChunks: 1 });
  deadUrl = `http://127.0.0.1:${await closedPort()}`;
  // Warm up: the first request loads llama.cpp (seconds on a busy machine). Jest's testTimeout is a
  // global option the multi-project run does not take from project configs, so bound it here.
  await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: SERVED, prompt: 'x', max_tokens: 1 }),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.close(), ignoring?.close(), dying?.close(), failing?.close()]);
});

describeCoderBackendContract({
  name: 'vllm against the protocol-faithful local OpenAI-compatible server (vLLM stand-in, real GGUF via node-llama-cpp)',
  createBackend: async () => createVllmBackend({ model: SERVED, baseUrl: server.url }),
  createUnavailableBackend: async () => createVllmBackend({ model: SERVED, baseUrl: deadUrl }),
  createBackendWithMissingModel: async () => createVllmBackend({ model: 'deepseek-coder-v2', baseUrl: server.url }),
});

describe('vllm against the protocol-faithful local OpenAI-compatible server (vLLM stand-in, real GGUF via node-llama-cpp): protocol details', () => {
  it('sends response_format json_schema with strict: true and returns validated JSON', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: server.url });
    try {
      const before = server.requests.length;
      const result = await backend.generate({
        messages: [{ role: 'user', content: 'JSON please' }],
        jsonSchema: SCHEMA,
        maxTokens: 60,
        temperature: 0,
      });
      expect(result.json).toEqual(JSON.parse(result.text));
      expect(['create_file', 'rename_symbol']).toContain((result.json as { kind: string }).kind);
      const sent = server.requests.slice(before).at(-1)!.body as Record<string, unknown>;
      expect(sent.response_format).toEqual({
        type: 'json_schema',
        json_schema: { name: 'nerion_output', schema: SCHEMA, strict: true },
      });
      expect(sent.max_tokens).toBe(60);
      expect(sent.temperature).toBe(0);
    } finally {
      await backend.close();
    }
  });

  it('streams over SSE with stream_options.include_usage and reports the usage chunk', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: server.url });
    try {
      const before = server.requests.length;
      const parts: StreamPart[] = [];
      for await (const part of backend.stream({
        messages: [{ role: 'user', content: 'Write code.' }],
        maxTokens: 12,
        temperature: 0,
      }))
        parts.push(part);
      const finish = parts.at(-1) as Extract<StreamPart, { type: 'finish' }>;
      expect(finish.type).toBe('finish');
      expect(finish.result.usage.completionTokens).toBeGreaterThan(0);
      expect(finish.result.usage.completionTokens).toBeLessThanOrEqual(12);
      expect(finish.result.usage.promptTokens).toBeGreaterThan(0);
      expect(finish.result.model).toBe(SERVED);
      const sent = server.requests.slice(before).at(-1)!.body as Record<string, unknown>;
      expect(sent).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    } finally {
      await backend.close();
    }
  });

  it('a raw prompt goes to /v1/completions, chat messages to /v1/chat/completions', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: server.url });
    try {
      const before = server.requests.length;
      await backend.generate({ prompt: 'def add(a, b):', maxTokens: 4, temperature: 0 });
      await backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4, temperature: 0 });
      expect(server.requests.slice(before).map((request) => request.path)).toEqual([
        '/v1/completions',
        '/v1/chat/completions',
      ]);
    } finally {
      await backend.close();
    }
  });

  it('probe lists the served ids and the version from /version; a missing model is named with the ids that exist', async () => {
    const backend = createVllmBackend({ model: 'codellama', baseUrl: server.url });
    try {
      const probe = await backend.probe();
      expect(probe).toMatchObject({ available: true, modelAvailable: false, version: STAND_IN_VERSION });
      expect([...(probe.models ?? [])].sort()).toEqual([SERVED, 'starcoder2']);
      expect(probe.reason).toContain(SERVED);
      const error = await rejection(backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4 }));
      expect(error.code).toBe('MODEL_NOT_FOUND');
      expect(error.message).toContain('"codellama"');
      expect(error.message).toContain(`${SERVED}, starcoder2`);
      expect(error.data.served).toEqual([SERVED, 'starcoder2']);
    } finally {
      await backend.close();
    }
  });

  it('a server that ignores response_format yields INVALID_OUTPUT naming the server and its version', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: ignoring.url });
    try {
      const error = await rejection(
        backend.generate({
          messages: [{ role: 'user', content: 'JSON please' }],
          jsonSchema: SCHEMA,
          maxTokens: 24,
          temperature: 0,
        }),
      );
      expect(error.code).toBe('INVALID_OUTPUT');
      expect(error.message).toContain(`vLLM ${STAND_IN_VERSION} at ${ignoring.url}`);
      expect(error.message).toContain('response_format');
      expect(error.data).toMatchObject({ server: 'vLLM', version: STAND_IN_VERSION });
      const streamed = await rejection(
        (async () => {
          for await (const part of backend.stream({
            messages: [{ role: 'user', content: 'JSON please' }],
            jsonSchema: SCHEMA,
            maxTokens: 24,
            temperature: 0,
          }))
            void part;
        })(),
      );
      expect(streamed.code).toBe('INVALID_OUTPUT');
    } finally {
      await backend.close();
    }
  });

  it('a server that dies mid-stream gives BACKEND_ERROR after the text it sent, and the backend stays usable', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: dying.url });
    try {
      const deltas: string[] = [];
      const error = await rejection(
        (async () => {
          for await (const part of backend.stream({
            messages: [{ role: 'user', content: 'Write a long program.' }],
            maxTokens: 400,
            temperature: 0.8,
            seed: 3,
          })) {
            if (part.type === 'text-delta') deltas.push(part.text);
          }
        })(),
      );
      expect(error.code).toBe('BACKEND_ERROR');
      expect(error.message).toMatch(/broke in the middle|ended the stream/);
      expect(deltas.length).toBeLessThanOrEqual(2);
      const after = await backend.generate({
        messages: [{ role: 'user', content: 'hi' }],
        maxTokens: 4,
        temperature: 0,
      });
      expect(['stop', 'length']).toContain(after.finishReason);
    } finally {
      await backend.close();
    }
  });

  it("vLLM's in-stream error event becomes BACKEND_ERROR with the server's message", async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: failing.url });
    try {
      const error = await rejection(
        (async () => {
          for await (const part of backend.stream({
            messages: [{ role: 'user', content: 'Write a long program.' }],
            maxTokens: 400,
            temperature: 0,
          }))
            void part;
        })(),
      );
      expect(error.code).toBe('BACKEND_ERROR');
      expect(error.message).toContain('reported an error during generation');
      expect(error.message).toContain('engine failure injected mid-stream');
    } finally {
      await backend.close();
    }
  });

  it('structured output cut at maxTokens: INVALID_OUTPUT says to raise maxTokens (not that the server ignored the schema)', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: server.url });
    try {
      for (const call of [
        () =>
          backend.generate({
            messages: [{ role: 'user', content: 'JSON please' }],
            jsonSchema: SCHEMA,
            maxTokens: 3,
            temperature: 0,
          }),
        async () => {
          for await (const part of backend.stream({
            messages: [{ role: 'user', content: 'JSON please' }],
            jsonSchema: SCHEMA,
            maxTokens: 3,
            temperature: 0,
          }))
            void part;
        },
      ]) {
        const error = await rejection(call());
        expect(error.code).toBe('INVALID_OUTPUT');
        expect(error.message).toContain(
          'stopped at the token limit (3 tokens) before the JSON was complete — raise it with --max-tokens',
        );
        expect(error.fix).toEqual({ settings: ['NERION_PLAN_MAX_TOKENS'] });
        expect(error.data.finishReason).toBe('length');
      }
    } finally {
      await backend.close();
    }
  });

  it('nothing answering: BACKEND_UNREACHABLE says how to start vLLM, with the serve command', async () => {
    const backend = createVllmBackend({ model: SERVED, baseUrl: deadUrl });
    try {
      const error = await rejection(backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 4 }));
      expect(error.code).toBe('BACKEND_UNREACHABLE');
      expect(error.message).toContain(
        `vLLM is not answering at ${deadUrl} (connection refused: nothing listens on that port, ECONNREFUSED) — start it with`,
      );
      expect(error.data).toMatchObject({ baseUrl: deadUrl, code: 'ECONNREFUSED' });
      expect(error.message).toContain(`--served-model-name ${SERVED} --host 127.0.0.1 --port ${new URL(deadUrl).port}`);
      expect(error.message).toContain('NERION_AUTOSTART_VLLM=1');
      expect(error.fix).toEqual({
        settings: ['NERION_AUTOSTART_VLLM', 'NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'],
        command: [
          'vllm',
          'serve',
          '<hugging-face-repo>',
          '--served-model-name',
          SERVED,
          '--host',
          '127.0.0.1',
          '--port',
          new URL(deadUrl).port,
        ],
      });
    } finally {
      await backend.close();
    }
    const withRepo = createVllmBackend({
      model: SERVED,
      baseUrl: deadUrl,
      autostart: { enabled: false, repo: 'Qwen/Qwen2.5-Coder-7B-Instruct', cacheDir: '/nonexistent' },
    });
    try {
      const probe = await withRepo.probe();
      expect(probe.reason).toContain(
        `\`vllm serve Qwen/Qwen2.5-Coder-7B-Instruct --served-model-name ${SERVED} --host 127.0.0.1 --port ${new URL(deadUrl).port}\``,
      );
    } finally {
      await withRepo.close();
    }
  });
});

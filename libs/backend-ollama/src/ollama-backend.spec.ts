import { createServer as createHttpServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type StreamPart } from '@nerion/backend-core';
import {
  fixturePaths,
  startLocalOllamaServer,
  type LocalOllamaServer,
  closedPort,
  rejection,
} from '@nerion/test-support';
import { createOllamaBackend } from './ollama-backend.js';
import { pullOllamaModel, type OllamaPullProgress } from './ollama-pull.js';

const MESSAGES = [{ role: 'user' as const, content: 'Write a TypeScript function that adds two numbers.' }];
const SCHEMA = {
  type: 'object',
  properties: { kind: { enum: ['create_file', 'rename_symbol'] }, done: { type: 'boolean' } },
  required: ['kind', 'done'],
  additionalProperties: false,
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('ollama backend against the protocol-faithful local Ollama server (real GGUF via node-llama-cpp)', () => {
  let server: LocalOllamaServer;
  let oldServer: LocalOllamaServer;
  const gguf = fixturePaths().tinyLlama;

  beforeAll(async () => {
    server = await startLocalOllamaServer({
      models: { 'nerion-tiny': gguf },
      pullable: { 'nerion-pullable:7b': gguf },
    });
    // An Ollama older than 0.5 accepts `format` but ignores a schema in it.
    oldServer = await startLocalOllamaServer({ models: { 'nerion-tiny': gguf }, version: '0.4.7', ignoreFormat: true });
  });
  afterAll(async () => {
    await server?.close();
    await oldServer?.close();
  });

  const lastChatBody = (target: LocalOllamaServer): Record<string, unknown> => {
    const chats = target.requests.filter((request) => request.path === '/api/chat' || request.path === '/api/generate');
    return chats[chats.length - 1]!.body as Record<string, unknown>;
  };

  it('sends explicit num_ctx, num_predict, temperature, stop, seed and keep_alive on /api/chat', async () => {
    const backend = createOllamaBackend({ model: 'ollama:nerion-tiny', baseUrl: server.url, keepAlive: '10m' });
    try {
      expect(backend.model).toBe('nerion-tiny');
      await backend.generate({ messages: MESSAGES, maxTokens: 8, temperature: 0.2, stop: ['\n\n'], seed: 3 });
      expect(lastChatBody(server)).toMatchObject({
        model: 'nerion-tiny',
        stream: true,
        keep_alive: '10m',
        options: { num_ctx: 2048, num_predict: 8, temperature: 0.2, stop: ['\n\n'], seed: 3 },
      });
      expect(lastChatBody(server).format).toBeUndefined();
    } finally {
      await backend.close();
    }
  });

  it('sizes num_ctx for a long prompt plus the output instead of Ollama’s small default', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    try {
      await backend.generate({ messages: [{ role: 'user', content: 'x'.repeat(6000) }], maxTokens: 2 });
      expect((lastChatBody(server).options as { num_ctx: number }).num_ctx).toBe(4096);
      const fixed = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url, contextLength: 1024 });
      const result = await fixed.generate({ messages: [{ role: 'user', content: 'x'.repeat(6000) }], maxTokens: 2 });
      expect((lastChatBody(server).options as { num_ctx: number }).num_ctx).toBe(1024);
      expect(result.warnings.join(' ')).toMatch(/exceed num_ctx 1024/);
      await fixed.close();
    } finally {
      await backend.close();
    }
  });

  it('sends a raw prompt to /api/generate with raw:true', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    try {
      const result = await backend.generate({ prompt: 'function add(a, b) {', maxTokens: 4 });
      expect(server.requests[server.requests.length - 1]!.path).toBe('/api/generate');
      expect(lastChatBody(server)).toMatchObject({
        prompt: 'function add(a, b) {',
        raw: true,
        options: { num_predict: 4 },
      });
      expect(result.usage.completionTokens).toBeLessThanOrEqual(4);
    } finally {
      await backend.close();
    }
  });

  it('reports usage and timings from Ollama’s counters', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    try {
      const result = await backend.generate({ messages: MESSAGES, maxTokens: 12 });
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      expect(result.usage.completionTokens).toBeGreaterThan(0);
      expect(result.timings.loadMs).toBeGreaterThanOrEqual(0);
      expect(result.timings.decodeTokensPerSecond).toBeGreaterThan(0);
      expect(result.model).toBe('nerion-tiny');
    } finally {
      await backend.close();
    }
  });

  it('probe() treats `name` as `name:latest` and lists the version and models', async () => {
    for (const model of ['nerion-tiny', 'nerion-tiny:latest']) {
      const backend = createOllamaBackend({ model, baseUrl: server.url });
      const probe = await backend.probe();
      expect(probe).toMatchObject({ available: true, modelAvailable: true, version: '0.6.5' });
      expect(probe.models).toContain('nerion-tiny:latest');
      expect(probe.facts).toMatchObject({ installedAs: 'nerion-tiny:latest', quantization: 'F32' });
      await backend.close();
    }
    const missing = createOllamaBackend({ model: 'qwen2.5-coder:7b', baseUrl: server.url });
    const probe = await missing.probe();
    expect(probe).toMatchObject({ available: false, modelAvailable: false });
    expect(probe.reason).toContain('nerion models ensure --backend ollama --model qwen2.5-coder:7b');
  });

  it('takes its own ollama: prefix off the model, and rejects an empty name (other backends’ prefixes are @nerion/config’s)', async () => {
    const backend = createOllamaBackend({ model: 'ollama:nerion-tiny', baseUrl: server.url });
    try {
      expect(backend.model).toBe('nerion-tiny');
    } finally {
      await backend.close();
    }
    expect(() => createOllamaBackend({ model: 'ollama: ', baseUrl: server.url })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('sends the JSON schema as `format` and returns validated JSON', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    try {
      const result = await backend.generate({ messages: MESSAGES, jsonSchema: SCHEMA, maxTokens: 80 });
      expect(lastChatBody(server).format).toEqual(SCHEMA);
      expect(result.json).toEqual(JSON.parse(result.text));
      expect(['create_file', 'rename_symbol']).toContain((result.json as { kind: string }).kind);
    } finally {
      await backend.close();
    }
  });

  it('JSON cut off at maxTokens becomes INVALID_OUTPUT saying to raise maxTokens', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    try {
      const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
      const error = await rejection(backend.generate({ messages: MESSAGES, jsonSchema: schema, maxTokens: 5 }));
      expect(error.code).toBe('INVALID_OUTPUT');
      expect(error.message).toMatch(/^Ollama 0\.6\.5: .* stopped at the token limit \(5 tokens\)/);
      expect(error.message).toContain('--max-tokens (NERION_PLAN_MAX_TOKENS for plans)');
      expect(error.fix).toEqual({ settings: ['NERION_PLAN_MAX_TOKENS'] });
    } finally {
      await backend.close();
    }
  });

  it('an Ollama that ignores `format` (older than 0.5) yields INVALID_OUTPUT naming its version, never a silent pass', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: oldServer.url });
    try {
      const error = await rejection(
        backend.generate({ messages: MESSAGES, jsonSchema: SCHEMA, maxTokens: 40, temperature: 0.8, seed: 1 }),
      );
      expect(error.code).toBe('INVALID_OUTPUT');
      expect(error.message).toContain('Ollama 0.4.7');
      expect(error.data.ollamaVersion).toBe('0.4.7');
      expect(lastChatBody(oldServer).format).toEqual(SCHEMA);
      const streamed: StreamPart[] = [];
      const streamError = await rejection(
        (async () => {
          for await (const part of backend.stream({
            messages: MESSAGES,
            jsonSchema: SCHEMA,
            maxTokens: 40,
            temperature: 0.8,
            seed: 2,
          }))
            streamed.push(part);
        })(),
      );
      expect(streamError.code).toBe('INVALID_OUTPUT');
      expect(streamed.some((part) => part.type === 'finish')).toBe(false);
    } finally {
      await backend.close();
    }
  });

  it('a server that dies mid-stream yields a typed BACKEND_ERROR', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    try {
      server.dieMidStreamOnce(3);
      let deltas = 0;
      const error = await rejection(
        (async () => {
          for await (const part of backend.stream({ messages: MESSAGES, maxTokens: 400, temperature: 0 }))
            if (part.type === 'text-delta') deltas += 1;
        })(),
      );
      expect(error.code).toBe('BACKEND_ERROR');
      expect(error.message).toMatch(/broke in the middle/);
      expect(deltas).toBeGreaterThan(0);
      const after = await backend.generate({ messages: MESSAGES, maxTokens: 2 });
      expect(after.text.length).toBeGreaterThanOrEqual(0);
    } finally {
      await backend.close();
    }
  });

  it('a port Node\'s fetch refuses (6000, the fetch standard\'s blocked list): BACKEND_UNREACHABLE naming the port and the settings, not a bare "fetch failed"', async () => {
    const baseUrl = 'http://127.0.0.1:6000';
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl });
    try {
      const error = await rejection(backend.generate({ messages: MESSAGES, maxTokens: 4 }));
      expect(error.code).toBe('BACKEND_UNREACHABLE');
      expect(error.message).toBe(
        `nerion cannot connect to Ollama at ${baseUrl}: port 6000 is on the fetch standard's list of blocked ports, which Node's fetch refuses to use (BAD_PORT) — run Ollama on another port (\`ollama serve\` listens on 11434) and set NERION_OLLAMA_BASE_URL or OLLAMA_HOST to it.`,
      );
      expect(error.fix).toEqual({
        settings: ['NERION_OLLAMA_BASE_URL', 'OLLAMA_HOST', 'NERION_CODER_BASE_URL'],
        command: ['ollama', 'serve'],
      });
      expect(error.data).toMatchObject({ baseUrl, code: 'BAD_PORT' });
      const probe = await backend.probe();
      expect(probe.reason).toBe(error.message);
      expect(probe.facts?.connectionFailure?.code).toBe('BAD_PORT');
    } finally {
      await backend.close();
    }
  });

  it('with nothing listening, every path fails fast with the "start Ollama" message', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl });
    try {
      const started = performance.now();
      const probe = await backend.probe();
      expect(probe.available).toBe(false);
      // The start command listens where the backend looks (Ollama reads its address from OLLAMA_HOST).
      const start = `env OLLAMA_HOST=127.0.0.1:${new URL(baseUrl).port} ollama serve`;
      expect(probe.reason).toContain(
        `Ollama is not answering at ${baseUrl} (connection refused: nothing listens on that port, ECONNREFUSED) — start it with \`${start}\` (or set NERION_OLLAMA_BASE_URL or OLLAMA_HOST to where it runs)`,
      );
      for (const attempt of [
        backend.generate({ messages: MESSAGES, maxTokens: 4 }),
        backend.generate({ prompt: 'x', maxTokens: 4 }),
        (async () => {
          for await (const _part of backend.stream({ messages: MESSAGES, maxTokens: 4 })) break;
        })(),
        backend.pull(),
      ]) {
        const error = await rejection(attempt);
        expect(error.code).toBe('BACKEND_UNREACHABLE');
        expect(error.message).toContain(`start it with \`${start}\``);
        expect(error.fix?.command).toEqual([
          'env',
          `OLLAMA_HOST=127.0.0.1:${new URL(baseUrl).port}`,
          'ollama',
          'serve',
        ]);
        expect(error.fix?.settings).toEqual(['NERION_OLLAMA_BASE_URL', 'OLLAMA_HOST', 'NERION_CODER_BASE_URL']);
        expect(error.data).toMatchObject({ baseUrl, code: 'ECONNREFUSED' });
      }
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      await backend.close();
    }
  });

  it('probe() says when something else answers, and stays bounded when the server hangs', async () => {
    const notOllama = createHttpServer((_request, response) => {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('no such page');
    });
    const hanging = createHttpServer(() => undefined);
    try {
      const other = await createOllamaBackend({ model: 'x', baseUrl: await listen(notOllama) }).probe();
      expect(other.available).toBe(false);
      expect(other.reason).toMatch(/not as Ollama does/);
      const started = performance.now();
      const slow = await createOllamaBackend({
        model: 'x',
        baseUrl: await listen(hanging),
        probeTimeoutMs: 300,
      }).probe();
      expect(performance.now() - started).toBeLessThan(2000);
      expect(slow.available).toBe(false);
      expect(slow.reason).toMatch(/did not answer within 300 ms/);
    } finally {
      notOllama.closeAllConnections();
      hanging.closeAllConnections();
      notOllama.close();
      hanging.close();
    }
  });

  it('pull() streams Ollama’s progress (digest, total, completed) and installs the model', async () => {
    const backend = createOllamaBackend({ model: 'nerion-pullable:7b', baseUrl: server.url });
    try {
      expect((await backend.probe()).modelAvailable).toBe(false);
      const progress: OllamaPullProgress[] = [];
      const result = await backend.pull(undefined, { onProgress: (record) => progress.push(record) });
      expect(result).toEqual({ model: 'nerion-pullable:7b', status: 'success' });
      expect(progress[0]!.status).toBe('pulling manifest');
      expect(progress[progress.length - 1]!.status).toBe('success');
      const layer = progress.filter((record) => record.completed !== undefined);
      expect(layer.length).toBeGreaterThan(0);
      expect(layer.every((record) => record.digest?.startsWith('sha256:') && record.total! >= record.completed!)).toBe(
        true,
      );
      expect(lastPullBody(server)).toMatchObject({ name: 'nerion-pullable:7b', stream: true });
      expect(await backend.probe()).toMatchObject({ available: true, modelAvailable: true });
    } finally {
      await backend.close();
    }
  });

  it('pull() of a name the library lacks fails with MODEL_NOT_FOUND; an abort ends it with ABORTED', async () => {
    const missing = await rejection(pullOllamaModel({ baseUrl: server.url }, 'no-such-model'));
    expect(missing.code).toBe('MODEL_NOT_FOUND');
    expect(missing.message).toContain('pull model manifest: file does not exist');
    const controller = new AbortController();
    const aborted = await rejection(
      pullOllamaModel({ baseUrl: server.url }, 'nerion-tiny', {
        signal: controller.signal,
        onProgress: (record) => {
          if (record.completed !== undefined) controller.abort();
        },
      }),
    );
    expect(aborted.code).toBe('ABORTED');
  });

  it('close() aborts a running generation and later calls reject with BACKEND_CLOSED', async () => {
    const backend = createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url });
    const running = backend.generate({
      messages: MESSAGES,
      maxTokens: 2000,
      temperature: 0 /* greedy: the random fixture runs past 1000 tokens; sampled, it may stop within 50 ms */,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await backend.close();
    expect((await rejection(running)).code).toBe('BACKEND_CLOSED');
    expect((await rejection(backend.pull())).code).toBe('BACKEND_CLOSED');
  });
});

function lastPullBody(server: LocalOllamaServer): unknown {
  return server.requests.filter((request) => request.path === '/api/pull').at(-1)?.body;
}

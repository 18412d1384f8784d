/**
 * @nerion/backend-openai-compatible against the protocol-faithful local OpenAI-compatible server from
 * @nerion/test-support (vLLM-shaped, real GGUF via node-llama-cpp) — no real vLLM or TabbyAPI here.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { NerionError } from '@nerion/backend-core';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import {
  closedPort,
  fixturePaths,
  rejection,
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { createOpenAICompatibleBackend, listOpenAICompatibleModels, serverRootFromBaseUrl } from '../src/index.js';

const SERVED = 'nerion-tiny-served';
let server: OpenAICompatibleServer;
let deadUrl: string;
let odd: Server;
let oddUrl: string;

beforeAll(async () => {
  server = await startOpenAICompatibleServer({ models: { [SERVED]: fixturePaths().tinyLlama } });
  deadUrl = `http://127.0.0.1:${await closedPort()}`;
  // Not OpenAI-compatible: /v1/models answers 503 under /busy, and a body without `data` elsewhere.
  odd = createServer((request, response) => {
    if (request.url?.startsWith('/busy')) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: [] }));
  });
  await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
  oddUrl = `http://127.0.0.1:${(odd.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => odd?.close(resolve));
});

describeCoderBackendContract({
  name: 'openai-compatible against the protocol-faithful local OpenAI-compatible server (stand-in, real GGUF via node-llama-cpp)',
  createBackend: async () =>
    createOpenAICompatibleBackend({ id: 'vllm', model: SERVED, baseUrl: server.url, serverName: 'stand-in' }),
  createUnavailableBackend: async () =>
    createOpenAICompatibleBackend({ id: 'vllm', model: SERVED, baseUrl: deadUrl, serverName: 'stand-in' }),
  createBackendWithMissingModel: async () =>
    createOpenAICompatibleBackend({ id: 'vllm', model: 'not-served', baseUrl: server.url, serverName: 'stand-in' }),
});

describe('createOpenAICompatibleBackend (protocol-faithful local OpenAI-compatible server)', () => {
  it('serves another backend id and server name (the exllamav2 HTTP mode reuses it)', async () => {
    const backend = createOpenAICompatibleBackend({
      id: 'exllamav2',
      model: SERVED,
      baseUrl: `${server.url}/v1/`,
      serverName: 'TabbyAPI',
      apiKey: 'secret',
    });
    try {
      expect(backend.id).toBe('exllamav2');
      expect(backend.baseUrl).toBe(server.url);
      const result = await backend.generate({
        messages: [{ role: 'user', content: 'hi' }],
        maxTokens: 4,
        temperature: 0,
      });
      expect(result.usage.completionTokens).toBeGreaterThan(0);
      expect(await backend.listServedModels()).toContain(SERVED);
    } finally {
      await backend.close();
    }
  });

  it('errors carry their fix as data: startFix on BACKEND_UNREACHABLE, NERION_CODER_MODEL on MODEL_NOT_FOUND', async () => {
    const dead = createOpenAICompatibleBackend({
      id: 'exllamav2',
      model: SERVED,
      baseUrl: deadUrl,
      serverName: 'TabbyAPI',
      startHint: 'start TabbyAPI',
      startFix: { settings: ['NERION_CODER_BASE_URL'], command: ['tabbyapi'] },
    });
    const missing = createOpenAICompatibleBackend({
      id: 'exllamav2',
      model: 'not-served',
      baseUrl: server.url,
      serverName: 'TabbyAPI',
    });
    try {
      const unreachable = await rejection(dead.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }));
      expect(unreachable.code).toBe('BACKEND_UNREACHABLE');
      expect(unreachable.message).toBe(
        `TabbyAPI is not answering at ${deadUrl} (connection refused: nothing listens on that port, ECONNREFUSED) — start TabbyAPI.`,
      );
      expect(unreachable.fix).toEqual({ settings: ['NERION_CODER_BASE_URL'], command: ['tabbyapi'] });
      const notFound = await rejection(missing.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }));
      expect(notFound.code).toBe('MODEL_NOT_FOUND');
      expect(notFound.fix).toEqual({ settings: ['NERION_CODER_MODEL'] });
      expect(notFound.data.served).toEqual([SERVED]);
    } finally {
      await Promise.all([dead.close(), missing.close()]);
    }
  });

  it('a port Node\'s fetch refuses (6000): BACKEND_UNREACHABLE that names the blocked port and the base-URL settings, not "Connection error."', async () => {
    const blocked = createOpenAICompatibleBackend({
      id: 'vllm',
      model: SERVED,
      baseUrl: 'http://127.0.0.1:6000',
      serverName: 'vLLM',
      startHint: 'start vLLM',
      startFix: { settings: ['NERION_AUTOSTART_VLLM', 'NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'] },
    });
    try {
      const message =
        "nerion cannot connect to vLLM at http://127.0.0.1:6000: port 6000 is on the fetch standard's list of blocked ports, which Node's fetch refuses to use (BAD_PORT) — run vLLM on another port and set NERION_VLLM_BASE_URL or NERION_CODER_BASE_URL to it.";
      for (const attempt of [
        blocked.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }),
        blocked.listServedModels(),
      ]) {
        const error = await rejection(attempt);
        expect(error.code).toBe('BACKEND_UNREACHABLE');
        expect(error.message).toBe(message);
        expect(error.fix).toEqual({ settings: ['NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'] });
        expect(error.data).toEqual({ baseUrl: 'http://127.0.0.1:6000', code: 'BAD_PORT' });
      }
      expect((await blocked.probe()).reason).toBe(message);
    } finally {
      await blocked.close();
    }
  });
});

describe('listOpenAICompatibleModels (protocol-faithful local OpenAI-compatible server)', () => {
  it('lists the served ids, with or without a trailing /v1', async () => {
    expect(await listOpenAICompatibleModels({ baseUrl: server.url })).toEqual([SERVED]);
    expect(await listOpenAICompatibleModels({ baseUrl: `${server.url}/v1` })).toEqual([SERVED]);
  });

  it('says why a list could not be read, as data: unreachable, an HTTP status, or a body that is not a model list', async () => {
    const unreachable = await rejection(listOpenAICompatibleModels({ baseUrl: deadUrl }));
    expect(unreachable.code).toBe('BACKEND_UNREACHABLE');
    expect(unreachable.data).toEqual({ baseUrl: deadUrl, failure: 'unreachable', code: 'ECONNREFUSED' });
    expect(unreachable.message).toBe(
      `The OpenAI-compatible server is not answering at ${deadUrl} (connection refused: nothing listens on that port, ECONNREFUSED).`,
    );
    expect(String(unreachable.cause)).toMatch(/fetch failed/);
    const status = await rejection(listOpenAICompatibleModels({ baseUrl: `${oddUrl}/busy` }));
    expect(status.code).toBe('BACKEND_ERROR');
    expect(status.data).toEqual({ baseUrl: `${oddUrl}/busy`, status: 503, failure: 'http-status' });
    const body = await rejection(listOpenAICompatibleModels({ baseUrl: oddUrl, serverName: 'Odd' }));
    expect(body.code).toBe('BACKEND_ERROR');
    expect(body.data.failure).toBe('unexpected-body');
    expect(body.message).toMatch(/^Odd at .* answered \/v1\/models with an unexpected body/);
  });

  it('serverRootFromBaseUrl drops /v1 and trailing slashes, and rejects what is not an http(s) URL', () => {
    expect(serverRootFromBaseUrl('http://host:8000/v1/')).toBe('http://host:8000');
    expect(() => serverRootFromBaseUrl('ftp://host')).toThrow(NerionError);
    expect(() => serverRootFromBaseUrl('not a url')).toThrow(/not a URL/);
  });
});

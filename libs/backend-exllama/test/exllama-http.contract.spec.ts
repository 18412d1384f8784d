/**
 * exllamav2's HTTP mode (a base URL set: TabbyAPI) goes through @nerion/backend-openai-compatible's
 * OpenAI-compatible client. TabbyAPI cannot run here, so this runs against the protocol-faithful
 * local OpenAI-compatible server from @nerion/test-support (vLLM-shaped, real GGUF via node-llama-cpp).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import {
  fixturePaths,
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
  closedPort,
} from '@nerion/test-support';
import { ExllamaBridgeBackend, createExllamaBackend } from '../src/index.js';

jest.setTimeout(60_000);

const SERVED = 'Qwen2.5-Coder-7B-Instruct-exl2';
let server: OpenAICompatibleServer;
let deadUrl: string;

beforeAll(async () => {
  server = await startOpenAICompatibleServer({ models: { [SERVED]: fixturePaths().tinyLlama } });
  deadUrl = `http://127.0.0.1:${await closedPort()}`;
});
afterAll(async () => {
  await server?.close();
});

describeCoderBackendContract({
  name: 'exllamav2 HTTP mode (the TabbyAPI path) against the protocol-faithful local OpenAI-compatible server (not TabbyAPI; real GGUF via node-llama-cpp)',
  createBackend: async () => createExllamaBackend({ model: SERVED, modelDir: undefined, baseUrl: server.url }),
  createUnavailableBackend: async () => createExllamaBackend({ model: SERVED, modelDir: undefined, baseUrl: deadUrl }),
  createBackendWithMissingModel: async () =>
    createExllamaBackend({ model: 'starcoder2-15b-instruct-v0.1-exl2', modelDir: undefined, baseUrl: server.url }),
});

describe('exllamav2 HTTP mode (protocol-faithful local OpenAI-compatible server, not TabbyAPI)', () => {
  it('reports the exllamav2 id, uses the shared client (no Python bridge), and names TabbyAPI when nothing answers', async () => {
    const backend = createExllamaBackend({
      model: SERVED,
      modelDir: undefined,
      baseUrl: deadUrl,
      python: '/nonexistent/python',
    });
    try {
      expect(backend.id).toBe('exllamav2');
      expect(backend).not.toBeInstanceOf(ExllamaBridgeBackend);
      const probe = await backend.probe();
      expect(probe.available).toBe(false);
      expect(probe.reason).toMatch(/TabbyAPI/);
    } finally {
      await backend.close();
    }
  });
});

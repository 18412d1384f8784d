import { afterAll, beforeAll } from '@jest/globals';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import { fixturePaths, startLocalOllamaServer, type LocalOllamaServer, closedPort } from '@nerion/test-support';
import { createOllamaBackend } from './ollama-backend.js';

let server: LocalOllamaServer;
beforeAll(async () => {
  server = await startLocalOllamaServer({ models: { 'nerion-tiny': fixturePaths().tinyLlama } });
});
afterAll(async () => {
  await server?.close();
});

describeCoderBackendContract({
  name: 'ollama against the protocol-faithful local Ollama server (real GGUF via node-llama-cpp)',
  createBackend: async () => createOllamaBackend({ model: 'nerion-tiny', baseUrl: server.url }),
  createUnavailableBackend: async () =>
    createOllamaBackend({ model: 'nerion-tiny', baseUrl: `http://127.0.0.1:${await closedPort()}` }),
  createBackendWithMissingModel: async () => createOllamaBackend({ model: 'deepseek-coder-v2', baseUrl: server.url }),
});

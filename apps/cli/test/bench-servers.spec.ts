import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog, resolveModelForBackend } from '@nerion/catalog';
import {
  fixturePaths,
  startLocalOllamaServer,
  startOpenAICompatibleServer,
  type LocalOllamaServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { runCli } from './run-cli.js';

/**
 * `nerion models bench` against the protocol-faithful local stand-ins for Ollama and for an
 * OpenAI-compatible (vLLM) server — NOT the real engines, which cannot be installed here. Both generate
 * with the tiny GGUF fixture through node-llama-cpp, so the figures are real measurements of real requests.
 */
describe('nerion models bench against the local Ollama and OpenAI-compatible (vLLM) stand-in servers (real GGUF)', () => {
  const family = 'qwen2.5-coder';
  let home: string;
  let ollama: LocalOllamaServer;
  let openai: OpenAICompatibleServer;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-bench-servers-'));
    const model = fixturePaths().tinyLlama;
    const catalog = loadCatalog();
    // Whether the wiring sends the family name or the catalog's name for that backend, the stand-in has it.
    ollama = await startLocalOllamaServer({
      models: { [family]: model, [resolveModelForBackend(catalog, 'ollama', family).name]: model },
      threads: 1,
    });
    const vllm = resolveModelForBackend(catalog, 'vllm', family);
    openai = await startOpenAICompatibleServer({ models: { [family]: model, [vllm.name]: model }, threads: 1 });
  });

  afterAll(async () => {
    await ollama?.close();
    await openai?.close();
    await rm(home, { recursive: true, force: true });
  });

  // Each backend's own endpoint variable (NERION_CODER_BASE_URL names only the selected backend's).
  const envFor = (backend: string, baseUrl: string): Record<string, string> => ({
    HOME: home,
    NERION_CACHE_DIR: join(home, 'cache'),
    [backend === 'ollama' ? 'NERION_OLLAMA_BASE_URL' : 'NERION_VLLM_BASE_URL']: baseUrl,
  });

  it.each([
    ['ollama', () => ollama.url],
    ['vllm', () => openai.url],
  ])(
    '%s: a real latency in the seed table and, with --json, TTFT, tokens/s and p50/p95 from the stand-in',
    async (backend, url) => {
      const table = await runCli(
        ['models', 'bench', '--backends', backend, '--models', family, '--runs', '2', '--max-tokens', '16'],
        { env: envFor(backend, url()), timeoutMs: 120_000 },
      );
      expect(table.stderr).not.toMatch(/^n\/a /m);
      expect(table.status).toBe(0);
      expect(table.stdout).toMatch(
        new RegExp(`^backend\\tmodel\\tlatency_s\\n${backend}\\tqwen2\\.5-coder\\t\\d+\\.\\d{3}\\n$`),
      );

      const json = await runCli(
        ['models', 'bench', '--backends', backend, '--models', family, '--runs', '3', '--max-tokens', '16', '--json'],
        { env: envFor(backend, url()), timeoutMs: 120_000 },
      );
      expect(json.status).toBe(0);
      const [result] = JSON.parse(json.stdout).results;
      expect(result).toMatchObject({ backend, model: family, status: 'ok' });
      expect(result.samples).toHaveLength(3);
      expect(result.latency.p95).toBeGreaterThanOrEqual(result.latency.p50);
      expect(result.timeToFirstTokenMs.median).toBeGreaterThan(0);
      expect(result.decodeTokensPerSecond.median).toBeGreaterThan(0);
      for (const run of result.samples) expect(run.completionTokens).toBeGreaterThanOrEqual(1);
      expect(result.load.totalMs).toBeGreaterThanOrEqual(0);
    },
  );
});

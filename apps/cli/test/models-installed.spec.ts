import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closedPort,
  fixturePaths,
  startLocalOllamaServer,
  startOpenAICompatibleServer,
  type LocalOllamaServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { runCli } from './run-cli.js';

interface Entry {
  backend: string;
  name?: string;
  state: string;
  location?: string;
  sizeBytes?: number;
  source?: string;
}
interface ListJson {
  families: { id: string; backends: Entry[] }[];
  others: { backend: string; name: string; location: string; sizeBytes?: number; source?: string }[];
}

/**
 * `models list` shows what is installed (not only catalog builds), with sizes, and agrees with `doctor` —
 * against the protocol-faithful Ollama and OpenAI-compatible (vLLM) stand-ins (NOT Ollama or vLLM).
 */
describe('models list: what is installed, and the same answer as doctor (built binary; Ollama / vLLM stand-ins)', () => {
  const home = mkdtempSync(join(tmpdir(), 'nerion-installed-'));
  const cache = join(home, 'cache');
  const gguf = fixturePaths().tinyLlama;
  const ggufSize = statSync(gguf).size;
  let ollama: LocalOllamaServer;
  let vllm: OpenAICompatibleServer;

  beforeAll(async () => {
    ollama = await startLocalOllamaServer({
      models: { 'qwen2.5-coder:7b': gguf, 'mistral:7b': gguf },
      threads: 1,
    });
    vllm = await startOpenAICompatibleServer({ models: { 'my-own-served-model': gguf } });
  }, 60_000);
  afterAll(async () => {
    await ollama?.close();
    await vllm?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('lists Ollama tags outside the catalog, other GGUFs in the cache folder, other exllamav2 folders and served names, each with its size', async () => {
    mkdirSync(join(cache, 'models', 'llama.cpp'), { recursive: true });
    copyFileSync(gguf, join(cache, 'models', 'llama.cpp', 'my-finetune.Q4_K_M.gguf'));
    const exl = join(cache, 'models', 'exl', 'my-exl2');
    mkdirSync(exl, { recursive: true });
    writeFileSync(join(exl, 'config.json'), '{}');
    writeFileSync(join(exl, 'model.safetensors'), 'x'.repeat(1000));
    const run = await runCli(['models', 'list', '--json'], {
      env: { HOME: home, NERION_CACHE_DIR: cache, NERION_CODER_BASE_URL: ollama.url, NERION_CODER_BACKEND: 'ollama' },
    });
    expect(run.status).toBe(0);
    const list = JSON.parse(run.stdout) as ListJson;
    const qwen = list.families.find((family) => family.id === 'qwen2.5-coder')!;
    expect(qwen.backends.find((entry) => entry.backend === 'ollama')).toMatchObject({
      state: 'installed',
      sizeBytes: ggufSize,
    });
    expect(list.others).toEqual(
      expect.arrayContaining([
        { backend: 'ollama', name: 'mistral:7b', location: ollama.url, sizeBytes: ggufSize, source: 'endpoint' },
        {
          backend: 'llama_cpp',
          name: 'my-finetune.Q4_K_M.gguf',
          location: join(cache, 'models', 'llama.cpp', 'my-finetune.Q4_K_M.gguf'),
          sizeBytes: ggufSize,
          source: 'cache folder',
        },
        { backend: 'exllamav2', name: 'my-exl2', location: exl, sizeBytes: 1002, source: 'cache folder' },
      ]),
    );
    expect(list.others.some((other) => other.name === 'qwen2.5-coder:7b')).toBe(false);

    const table = await runCli(['models', 'list'], {
      env: { HOME: home, NERION_CACHE_DIR: cache, NERION_CODER_BASE_URL: ollama.url, NERION_CODER_BACKEND: 'ollama' },
    });
    expect(table.stdout).toContain('Installed outside the catalog:');
    expect(table.stdout).toMatch(/^ {2}ollama \/ mistral:7b: http:\/\/127\.0\.0\.1:\d+ \(\d+(\.\d+)? KB\)$/m);
  });

  it('what a vLLM endpoint serves outside the catalog is listed', async () => {
    const run = await runCli(['models', 'list', '--json'], {
      env: {
        HOME: home,
        NERION_CACHE_DIR: join(home, 'empty'),
        NERION_CODER_BACKEND: 'vllm',
        NERION_CODER_BASE_URL: vllm.url,
      },
    });
    const list = JSON.parse(run.stdout) as ListJson;
    expect(list.others).toContainEqual({
      backend: 'vllm',
      name: 'my-own-served-model',
      location: vllm.url,
      source: 'endpoint',
    });
  });

  it('with LLAMA_CPP_MODEL_PATH set, doctor and models list agree: the model is present (was: doctor present, list "missing" ×4)', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const env = {
      HOME: home,
      NERION_CACHE_DIR: join(home, 'other-cache'),
      NERION_CODER_BACKEND: 'llama_cpp',
      NERION_CODER_MODEL: 'qwen2.5-coder',
      LLAMA_CPP_MODEL_PATH: gguf,
      NERION_CODER_BASE_URL: down,
      NERION_PYTHON: join(home, 'no-python'),
    };
    const doctor = JSON.parse(
      (await runCli(['doctor', '--json', '--timeout', '60'], { env, timeoutMs: 120_000 })).stdout,
    ) as {
      backends: { backend: string; checks: { check: string; ok: boolean | null }[] }[];
    };
    const llama = doctor.backends.find((entry) => entry.backend === 'llama_cpp')!;
    expect(llama.checks.find((check) => check.check === 'model')?.ok).toBe(true);

    const list = JSON.parse((await runCli(['models', 'list', '--json'], { env })).stdout) as ListJson;
    const row = list.families
      .find((family) => family.id === 'qwen2.5-coder')!
      .backends.find((entry) => entry.backend === 'llama_cpp')!;
    expect(row).toMatchObject({
      state: 'installed',
      location: gguf,
      source: 'LLAMA_CPP_MODEL_PATH',
      sizeBytes: ggufSize,
    });
  }, 180_000);
});

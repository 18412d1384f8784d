import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fixturePaths,
  startLocalOllamaServer,
  startOpenAICompatibleServer,
  type LocalOllamaServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { runCli } from './run-cli.js';

interface PsJson {
  backends: {
    backend: string;
    endpoints: {
      url?: string;
      reachable?: boolean;
      models: { name: string; pid?: number; sizeBytes?: number }[];
      note?: string;
    }[];
  }[];
}

/**
 * `nerion models ps` and `nerion models rm` through the built CLI, against the protocol-faithful Ollama
 * and OpenAI-compatible (vLLM / TabbyAPI) stand-ins — NOT Ollama or vLLM, which cannot be installed here.
 */
describe('nerion models ps / rm (built binary; protocol-faithful Ollama and OpenAI-compatible stand-ins)', () => {
  let home: string;
  let ollama: LocalOllamaServer;
  let openai: OpenAICompatibleServer;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-ps-rm-'));
    ollama = await startLocalOllamaServer({
      models: { 'nerion-tiny': fixturePaths().tinyLlama, 'codellama:7b-instruct': fixturePaths().tinyLlama },
      threads: 1,
    });
    openai = await startOpenAICompatibleServer({ models: { 'nerion-tiny-served': fixturePaths().tinyLlama } });
  }, 60_000);
  afterAll(async () => {
    await ollama?.close();
    await openai?.close();
    await rm(home, { recursive: true, force: true });
  });

  const cache = (): string => join(home, 'cache');
  const base = (): Record<string, string> => ({ HOME: home, NERION_CACHE_DIR: cache(), XDG_CONFIG_HOME: home });

  it("ps --json: Ollama's loaded model (via /api/ps), the vLLM server nerion started (pid file) with what it serves, llama_cpp in-process", async () => {
    // Load the model in the stand-in, as a generation would.
    await fetch(`${ollama.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'nerion-tiny', prompt: '', keep_alive: '5m' }),
    });
    // A pid file as nerion's vLLM autostart writes it, for a live process (this test's) serving at the stand-in.
    mkdirSync(join(cache(), 'run'), { recursive: true });
    const port = Number(new URL(openai.url).port);
    writeFileSync(
      join(cache(), 'run', `vllm-${port}.pid`),
      JSON.stringify({
        pid: process.pid,
        host: '127.0.0.1',
        port,
        model: 'nerion-tiny-served',
        repo: 'nerion/tiny',
        argv: ['vllm', 'serve'],
        logFile: join(cache(), 'logs', `vllm-${port}.log`),
        startedAt: new Date().toISOString(),
        baseUrl: openai.url,
      }),
    );
    const run = await runCli(['models', 'ps', '--json'], {
      env: { ...base(), NERION_CODER_BACKEND: 'ollama', NERION_CODER_BASE_URL: ollama.url },
    });
    expect(run.status).toBe(0);
    const ps = JSON.parse(run.stdout) as PsJson;
    const by = (name: string) => ps.backends.find((entry) => entry.backend === name)!;
    expect(by('ollama').endpoints[0]).toMatchObject({
      url: ollama.url,
      reachable: true,
      models: [{ name: 'nerion-tiny:latest' }],
    });
    expect(by('ollama').endpoints[0]!.models[0]!.sizeBytes).toBeGreaterThan(0);
    expect(by('vllm').endpoints[0]).toMatchObject({
      reachable: true,
      models: [{ name: 'nerion-tiny-served', pid: process.pid }],
    });
    expect(by('llama_cpp').endpoints[0]!.note).toContain('in-process');

    const table = await runCli(['models', 'ps'], {
      env: { ...base(), NERION_CODER_BACKEND: 'ollama', NERION_CODER_BASE_URL: ollama.url },
    });
    expect(table.stdout).toMatch(/^backend\s+model\s+where\s+size\s+until$/m);
    expect(table.stdout).toMatch(/^ollama\s+nerion-tiny:latest\s+http:\/\/127\.0\.0\.1:\d+\s+\S+ \S+\s+\d{4}-/m);
    expect(table.stdout).toMatch(new RegExp(`^vllm\\s+nerion-tiny-served\\s+\\S+ \\(pid ${process.pid}\\)`, 'm'));
  }, 120_000);

  it('ps with TabbyAPI: exllamav2 lists what the OpenAI-compatible server serves', async () => {
    const run = await runCli(['models', 'ps', '--json'], {
      env: {
        ...base(),
        NERION_CACHE_DIR: join(home, 'empty'),
        NERION_CODER_BACKEND: 'exllamav2',
        NERION_CODER_BASE_URL: openai.url,
      },
    });
    const ps = JSON.parse(run.stdout) as PsJson;
    expect(ps.backends.find((entry) => entry.backend === 'exllamav2')!.endpoints[0]).toMatchObject({
      url: openai.url,
      models: [{ name: 'nerion-tiny-served' }],
    });
  });

  it('rm of an Ollama model: refused without --yes when not a terminal (exit 4, nothing deleted), deleted through DELETE /api/delete with it', async () => {
    const env = { ...base(), NERION_CODER_BASE_URL: ollama.url, NERION_CODER_BACKEND: 'ollama' };
    const refused = await runCli(['models', 'rm', '--backend', 'ollama', '--model', 'codellama', '--json'], { env });
    expect(refused.status).toBe(4);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      error: {
        code: 'CONSENT_REQUIRED',
        fix: { command: ['nerion', 'models', 'rm', '--backend', 'ollama', '--model', 'codellama', '--yes'] },
      },
    });
    expect(ollama.installedModels()).toContain('codellama:7b-instruct');

    const deleted = await runCli(['models', 'rm', '--backend', 'ollama', '--model', 'codellama', '--yes', '--json'], {
      env,
    });
    expect(deleted.status).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({
      backend: 'ollama',
      family: 'codellama',
      removed: 'codellama:7b-instruct',
    });
    expect(ollama.installedModels()).not.toContain('codellama:7b-instruct');
    expect(ollama.requests.some((request) => request.method === 'DELETE' && request.path === '/api/delete')).toBe(true);

    const again = await runCli(['models', 'rm', '--backend', 'ollama', '--model', 'codellama', '--yes'], { env });
    expect(again.status).toBe(3);
    expect(again.stderr).toContain('has no model "codellama:7b-instruct" to delete');
  });

  it('rm of a provisioned GGUF deletes the file and its provisioned.json record; an unknown name gets the nearest one', async () => {
    const folder = join(cache(), 'models', 'llama.cpp');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'qwen2.5-coder-7b-instruct-q4_k_m.gguf');
    writeFileSync(file, readFileSync(fixturePaths().tinyLlama));
    writeFileSync(
      join(cache(), 'provisioned.json'),
      JSON.stringify({
        version: 1,
        records: [
          {
            backend: 'llama_cpp',
            family: 'qwen2.5-coder',
            name: 'qwen2.5-coder-7b-instruct-q4_k_m.gguf',
            path: file,
            provisionedAt: new Date().toISOString(),
          },
        ],
      }),
    );
    const unknown = await runCli(['models', 'rm', '--backend', 'llama_cpp', '--model', 'qwen', '--yes', '--json'], {
      env: base(),
    });
    expect(unknown.status).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      error: { code: 'UNKNOWN_MODEL', data: { suggestions: ['qwen2.5-coder'] } },
    });

    const refused = await runCli(['models', 'rm', '--backend', 'llama_cpp', '--model', 'qwen2.5-coder'], {
      env: base(),
    });
    expect(refused.status).toBe(4);
    expect(existsSync(file)).toBe(true);

    const run = await runCli(
      ['models', 'rm', '--backend', 'llama_cpp', '--model', 'qwen2.5-coder', '--yes', '--json'],
      { env: base() },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      removed: file,
      forgottenRecords: 1,
      freedBytes: readFileSync(fixturePaths().tinyLlama).length,
    });
    expect(existsSync(file)).toBe(false);
    expect(JSON.parse(readFileSync(join(cache(), 'provisioned.json'), 'utf8'))).toEqual({ version: 1, records: [] });
  });

  it('rm of an exllamav2 folder deletes the folder; vllm is refused with the Hugging Face cache command as fix', async () => {
    const folder = join(cache(), 'models', 'exl', 'starcoder2');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), '{}');
    writeFileSync(join(folder, 'model.safetensors'), 'x'.repeat(100));
    const run = await runCli(['models', 'rm', '--backend', 'exllamav2', '--model', 'starcoder2', '--yes', '--json'], {
      env: base(),
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ removed: folder, freedBytes: 102 });
    expect(existsSync(folder)).toBe(false);

    const vllm = await runCli(['models', 'rm', '--backend', 'vllm', '--model', 'codellama', '--yes', '--json'], {
      env: base(),
    });
    expect(vllm.status).toBe(3);
    expect(JSON.parse(vllm.stdout)).toMatchObject({
      error: { code: 'NOT_AVAILABLE', fix: { command: ['huggingface-cli', 'delete-cache'] } },
    });
  });
});

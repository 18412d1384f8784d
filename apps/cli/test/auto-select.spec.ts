import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, startLocalOllamaServer, type LocalOllamaServer, closedPort } from '@nerion/test-support';
import { runCli } from './run-cli.js';

/**
 * NERION_CODER_AUTO=1 through the built CLI. The only backend up is the protocol-faithful local Ollama
 * stand-in (NOT Ollama; it serves the tiny GGUF under the catalog's qwen2.5-coder tag); llama.cpp has no
 * provisioned file, vLLM and exllamav2 are absent — so the choice must be the one model that is there.
 */
describe('nerion plan --llm with NERION_CODER_AUTO=1 (built binary, local Ollama stand-in with a real GGUF)', () => {
  let home: string;
  let repo: string;
  let server: LocalOllamaServer;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-auto-home-'));
    repo = await mkdtemp(join(tmpdir(), 'nerion-auto-repo-'));
    await writeFile(join(repo, 'calc.py'), 'def add(a, b):\n    return a + b\n');
    server = await startLocalOllamaServer({ models: { 'qwen2.5-coder:7b': fixturePaths().tinyLlama }, threads: 1 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  });

  const baseEnv = (): Record<string, string> => ({
    HOME: home,
    NERION_CACHE_DIR: join(home, 'cache'),
    NERION_CODER_AUTO: '1',
  });

  it('picks the available model, says why on stderr, and plans with it', async () => {
    const run = await runCli(['plan', '-i', 'rename add to plus in calc.py', '-f', 'calc.py', '--llm', '--no-cache'], {
      cwd: repo,
      env: { ...baseEnv(), NERION_CODER_BASE_URL: server.url },
      timeoutMs: 170_000,
    });
    expect(run.stderr).toMatch(
      /auto: auto-selected ollama\/qwen2\.5-coder \(qwen2\.5-coder\) for the instruction says "rename" \(a edit task\), the target is python/,
    );
    expect(run.status).toBe(0);
    const plan = JSON.parse(run.stdout) as { actions: unknown[] };
    expect(plan.actions.length).toBeGreaterThan(0);
    const chats = server.requests.filter((request) => request.path === '/api/chat');
    expect(chats.length).toBeGreaterThan(0);
    expect((chats[0]!.body as { model: string }).model).toBe('qwen2.5-coder:7b');
  }, 180_000);

  it('`models bench` records its figures, and auto-selection ranks by them', async () => {
    const env = { ...baseEnv(), NERION_CODER_BASE_URL: server.url, LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama };
    const bench = await runCli(
      ['models', 'bench', '--backends', 'llama_cpp', '--models', 'deepseek-coder-v2', '--runs', '1', '--warmup', '0'],
      { cwd: repo, env, timeoutMs: 120_000 },
    );
    expect(bench.status).toBe(0);
    const figures = JSON.parse(await readFile(join(home, 'cache', 'bench', 'last.json'), 'utf8')) as {
      figures: { backend: string; model: string; latencySeconds: number }[];
    };
    expect(figures.figures).toEqual([
      expect.objectContaining({ backend: 'llama_cpp', model: 'deepseek-coder-v2', latencySeconds: expect.any(Number) }),
    ]);
    const run = await runCli(['plan', '-i', 'rename add to plus in calc.py', '-f', 'calc.py', '--llm', '--no-cache'], {
      cwd: repo,
      env,
      timeoutMs: 170_000,
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('auto: auto-selected llama_cpp/deepseek-coder-v2');
    expect(run.stderr).toMatch(/auto: measured \d+\.\d{3} s per request in the last bench/);
  }, 300_000);

  it('with nothing available and NERION_LLM_STRICT=1, exits 3 naming how to provision a model', async () => {
    const run = await runCli(['plan', '-i', 'add a function greet to calc.py', '--llm', '--no-cache'], {
      cwd: repo,
      env: { ...baseEnv(), NERION_CODER_BASE_URL: `http://127.0.0.1:${await closedPort()}`, NERION_LLM_STRICT: '1' },
      timeoutMs: 60_000,
    });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Error [NOT_AVAILABLE]');
    expect(run.stderr).toContain('nerion models ensure --auto');
  }, 70_000);

  it('an explicit backend still wins over auto-selection', async () => {
    const run = await runCli(
      ['plan', '-i', 'add a function greet to calc.py', '--llm', '--no-cache', '--backend', 'llama_cpp'],
      {
        cwd: repo,
        env: { ...baseEnv(), NERION_CODER_BASE_URL: server.url, NERION_LLM_STRICT: '1' },
        timeoutMs: 60_000,
      },
    );
    // llama_cpp was chosen explicitly; auto may only pick its model, and none is provisioned there.
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('no available local model');
  }, 70_000);
});

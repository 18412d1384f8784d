import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog, resolveModelForBackend } from '@nerion/catalog';
import {
  closedPort,
  fixturePaths,
  instantEngine,
  startLocalOllamaServer,
  startOpenAICompatibleServer,
  type LocalOllamaServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { runCli } from './run-cli.js';

/**
 * One endpoint per backend, and replicas, through the built CLI: protocol-faithful local stand-ins for
 * Ollama and for vLLM (OpenAI-compatible) — NOT the real engines — on their own ports, answering with the
 * instant fixed-answer engine (what is tested is which server each command talks to).
 */
describe('nerion: one endpoint per backend, and replicas (Ollama and vLLM stand-ins on their own ports)', () => {
  const family = 'qwen2.5-coder';
  let home: string;
  let ollama: LocalOllamaServer;
  let vllm: OpenAICompatibleServer;
  let vllmReplica: OpenAICompatibleServer;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-endpoints-'));
    const model = fixturePaths().tinyLlama;
    const catalog = loadCatalog();
    const ollamaName = resolveModelForBackend(catalog, 'ollama', family).name;
    ollama = await startLocalOllamaServer({
      models: { [family]: model, [ollamaName]: model },
      engineFactory: async () => instantEngine(),
    });
    const servedName = resolveModelForBackend(catalog, 'vllm', family).name;
    const served = { [family]: model, [servedName]: model };
    vllm = await startOpenAICompatibleServer({ models: served, createBackend: async () => instantEngine() });
    vllmReplica = await startOpenAICompatibleServer({ models: served, createBackend: async () => instantEngine() });
  });

  afterAll(async () => {
    await ollama?.close();
    await vllm?.close();
    await vllmReplica?.close();
    await rm(home, { recursive: true, force: true });
  });

  const baseEnv = (): Record<string, string> => ({ HOME: home, NERION_CACHE_DIR: join(home, 'cache') });
  /** The family's ollama and vllm entries in `models list --json`. */
  const entries = (stdout: string): Record<string, { state: string; location?: string }> => {
    const result = JSON.parse(stdout) as {
      families: Array<{ id: string; backends: Array<{ backend: string; state: string; location?: string }> }>;
    };
    const backends = result.families.find((entry) => entry.id === family)!.backends;
    return Object.fromEntries(
      backends
        .filter((entry) => entry.backend === 'ollama' || entry.backend === 'vllm')
        .map((entry) => [entry.backend, entry]),
    );
  };
  const completions = (server: OpenAICompatibleServer): number =>
    server.requests.filter((request) => request.path === '/v1/chat/completions').length;

  it('models bench --backends ollama vllm gives two numeric rows with each backend on its own port, without NERION_CODER_BASE_URL', async () => {
    const before = completions(vllm);
    const run = await runCli(
      ['models', 'bench', '--backends', 'ollama', 'vllm', '--models', family, '--runs', '2', '--max-tokens', '8'],
      {
        env: { ...baseEnv(), NERION_OLLAMA_BASE_URL: ollama.url, NERION_VLLM_BASE_URL: vllm.url },
        timeoutMs: 120_000,
      },
    );
    expect(run.stderr).not.toMatch(/^n\/a /m);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^backend\tmodel\tlatency_s\nollama\tqwen2\.5-coder\t\d+\.\d{3}\nvllm\tqwen2\.5-coder\t\d+\.\d{3}\n$/,
    );
    expect(completions(vllm)).toBeGreaterThan(before);
    expect(ollama.requests.some((request) => request.path === '/api/chat')).toBe(true);
  }, 130_000);

  it('NERION_CODER_BASE_URL applies to the selected backend only: on Ollama’s port it does not send vLLM there', async () => {
    const run = await runCli(
      ['models', 'bench', '--backends', 'ollama', 'vllm', '--models', family, '--runs', '1', '--max-tokens', '8'],
      {
        env: {
          ...baseEnv(),
          NERION_CODER_BACKEND: 'ollama',
          NERION_CODER_BASE_URL: ollama.url,
          NERION_VLLM_BASE_URL: vllm.url,
        },
        timeoutMs: 120_000,
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ollama\tqwen2\.5-coder\t\d+\.\d{3}$/m);
    expect(run.stdout).toMatch(/^vllm\tqwen2\.5-coder\t\d+\.\d{3}$/m);
    // Ollama's stand-in answers /v1/models with 404: nothing was asked of it for vLLM.
    expect(ollama.requests.some((request) => request.path.startsWith('/v1/'))).toBe(false);
  }, 130_000);

  it('OLLAMA_HOST in Ollama’s host:port form is where nerion looks when NERION_OLLAMA_BASE_URL is unset', async () => {
    const port = new URL(ollama.url).port;
    const run = await runCli(['models', 'list', '--json'], {
      env: { ...baseEnv(), OLLAMA_HOST: `0.0.0.0:${port}`, NERION_VLLM_BASE_URL: vllm.url },
      timeoutMs: 60_000,
    });
    expect(run.status).toBe(0);
    expect(entries(run.stdout)).toEqual({
      ollama: expect.objectContaining({ state: 'installed', location: `http://127.0.0.1:${port}` }),
      vllm: expect.objectContaining({ state: 'installed', location: vllm.url }),
    });
  }, 70_000);

  it('models list with replicas that differ: every replica is listed, the state per replica, the others per replica', async () => {
    const model = fixturePaths().tinyLlama;
    const ollamaOther = await startLocalOllamaServer({
      models: { 'other-model:7b': model },
      engineFactory: async () => instantEngine(),
    });
    const vllmOther = await startOpenAICompatibleServer({
      models: { 'other-served': model },
      createBackend: async () => instantEngine(),
    });
    const dead = `http://127.0.0.1:${await closedPort()}`;
    try {
      const env = {
        ...baseEnv(),
        NERION_OLLAMA_BASE_URL: `${ollama.url},${ollamaOther.url}`,
        NERION_VLLM_BASE_URL: `${vllm.url},${vllmOther.url},${dead}`,
      };
      const run = await runCli(['models', 'list', '--json'], { env, timeoutMs: 60_000 });
      expect(run.status).toBe(0);
      expect(entries(run.stdout)).toEqual({
        ollama: expect.objectContaining({
          state: 'installed',
          location: ollama.url,
          detail: `missing on ${ollamaOther.url}`,
          replicas: [
            { endpoint: ollama.url, state: 'installed' },
            { endpoint: ollamaOther.url, state: 'missing', detail: expect.stringContaining('not pulled there') },
          ],
        }),
        vllm: expect.objectContaining({
          state: 'installed',
          location: vllm.url,
          replicas: [
            { endpoint: vllm.url, state: 'installed' },
            { endpoint: vllmOther.url, state: 'missing', detail: 'not served there' },
            { endpoint: dead, state: 'unknown', detail: expect.stringContaining('ECONNREFUSED') },
          ],
        }),
      });
      const others = (JSON.parse(run.stdout) as { others: Array<{ backend: string; name: string; location: string }> })
        .others;
      expect(others).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ backend: 'ollama', name: 'other-model:7b', location: ollamaOther.url }),
          expect.objectContaining({ backend: 'vllm', name: 'other-served', location: vllmOther.url }),
        ]),
      );

      const text = await runCli(['models', 'list'], { env, timeoutMs: 60_000 });
      expect(text.status).toBe(0);
      expect(text.stdout).toContain(`  ${family} / ollama: ${ollama.url}`);
      expect(text.stdout).toContain(`missing on ${ollamaOther.url}`);
      expect(text.stdout).toContain(`  ollama / other-model:7b: ${ollamaOther.url}`);
      expect(text.stdout).toContain(`  vllm / other-served: ${vllmOther.url}`);
      expect(text.stderr).toContain(`vllm (${dead}): No vLLM server answers at ${dead}`);
    } finally {
      await ollamaOther.close();
      await vllmOther.close();
    }
  }, 70_000);

  it('several vLLM base URLs: bench --json and doctor report each replica; the requests are spread over both', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const before = [completions(vllm), completions(vllmReplica)];
    const env = {
      ...baseEnv(),
      NERION_CODER_BACKEND: 'vllm',
      NERION_CODER_MODEL: family,
      NERION_VLLM_BASE_URL: `${vllm.url},${vllmReplica.url},${dead}`,
    };
    const bench = await runCli(
      ['models', 'bench', '--backends', 'vllm', '--models', family, '--runs', '4', '--max-tokens', '8', '--json'],
      { env, timeoutMs: 120_000 },
    );
    expect(bench.status).toBe(0);
    const [row] = JSON.parse(bench.stdout).results;
    expect(row).toMatchObject({ backend: 'vllm', status: 'ok' });
    expect(row.replicas).toEqual([
      expect.objectContaining({ url: vllm.url, available: true }),
      expect.objectContaining({ url: vllmReplica.url, available: true }),
      expect.objectContaining({ url: dead, available: false, reason: expect.stringContaining(dead) }),
    ]);
    expect(completions(vllm) - before[0]!).toBeGreaterThan(0);
    expect(completions(vllmReplica) - before[1]!).toBeGreaterThan(0);

    const doctor = await runCli(['doctor'], { env, timeoutMs: 90_000 });
    expect(doctor.stdout).toContain(`  replica ${vllm.url}: in`);
    expect(doctor.stdout).toContain(`  replica ${vllmReplica.url}: in`);
    expect(doctor.stdout).toMatch(new RegExp(`^ {2}replica ${dead.replace(/[.]/g, '\\.')}: out — `, 'm'));
  }, 220_000);

  it('the config file takes the base URLs as a YAML list; a URL with credentials is CONFIG_INVALID and never printed', async () => {
    const file = join(home, 'config.yaml');
    await writeFile(file, `NERION_VLLM_BASE_URL:\n  - ${vllm.url}\n  - ${vllmReplica.url}\n`);
    const list = await runCli(['models', 'list', '--json'], {
      env: { ...baseEnv(), NERION_CONFIG: file, NERION_OLLAMA_BASE_URL: ollama.url },
      timeoutMs: 60_000,
    });
    expect(list.status).toBe(0);
    // Both replicas of the list are read (they serve the same model: no detail).
    expect(entries(list.stdout).vllm).toEqual(
      expect.objectContaining({
        state: 'installed',
        location: `${vllm.url}, ${vllmReplica.url}`,
        replicas: [
          { endpoint: vllm.url, state: 'installed' },
          { endpoint: vllmReplica.url, state: 'installed' },
        ],
      }),
    );
    expect(entries(list.stdout).vllm).not.toHaveProperty('detail');

    const secret = await runCli(['models', 'list', '--json'], {
      env: { ...baseEnv(), NERION_VLLM_BASE_URL: `${vllm.url},http://user:hunter2@gpu9:8000` },
      timeoutMs: 60_000,
    });
    expect(secret.status).toBe(2);
    expect(secret.stderr).toContain('NERION_VLLM_BASE_URL');
    expect(`${secret.stdout}${secret.stderr}`).not.toContain('hunter2');
  }, 130_000);

  it('models ensure --backend vllm prints `vllm serve … --port N` for the vLLM endpoint, with the parallelism settings', async () => {
    const run = await runCli(['models', 'ensure', '--backend', 'vllm', '--model', family], {
      env: {
        ...baseEnv(),
        NERION_CODER_BASE_URL: ollama.url, // the selected backend is ollama: this is not vLLM's endpoint
        NERION_VLLM_BASE_URL: 'http://127.0.0.1:8123',
        NERION_VLLM_TENSOR_PARALLEL_SIZE: '2',
        NERION_VLLM_EXTRA_ARGS: `--max-model-len 4096 --gpu-memory-utilization '0.85'`,
      },
      timeoutMs: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /vllm serve \S+ --served-model-name \S+ --host 127\.0\.0\.1 --port 8123 --tensor-parallel-size 2 --max-model-len 4096 --gpu-memory-utilization 0\.85/,
    );
  }, 70_000);
});

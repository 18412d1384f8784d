import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, startLocalOllamaServer, type LocalOllamaServer, closedPort } from '@nerion/test-support';
import { runCli } from './run-cli.js';

interface DoctorJson {
  backends: {
    backend: string;
    usable: boolean;
    checks: { check: string; ok: boolean | null; detail: string; fix?: string }[];
  }[];
}

/**
 * NERION_CODER_BACKEND=ollama through the built CLI, against the protocol-faithful local Ollama stand-in
 * (NOT Ollama, which cannot be installed here; it generates with the tiny GGUF via node-llama-cpp), and
 * against nothing at all, where every path must fail fast with the "start Ollama" message.
 */
describe('the CLI on NERION_CODER_BACKEND=ollama (protocol-faithful local Ollama stand-in, real GGUF)', () => {
  let home: string;
  let repo: string;
  let server: LocalOllamaServer;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-ollama-cli-'));
    repo = await mkdtemp(join(tmpdir(), 'nerion-ollama-repo-'));
    await writeFile(join(repo, 'calc.py'), 'def add(a, b):\n    return a + b\n');
    server = await startLocalOllamaServer({ models: { 'nerion-tiny': fixturePaths().tinyLlama }, threads: 1 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  });

  const envFor = (baseUrl: string): Record<string, string> => ({
    HOME: home,
    NERION_CACHE_DIR: join(home, 'cache'),
    NERION_CODER_BACKEND: 'ollama',
    NERION_CODER_MODEL: 'nerion-tiny',
    NERION_CODER_BASE_URL: baseUrl,
  });

  it('doctor --json: the ollama backend is reachable, has the model and does strict JSON', async () => {
    const run = await runCli(['doctor', '--json'], { env: envFor(server.url), timeoutMs: 120_000 });
    const report = JSON.parse(run.stdout) as DoctorJson;
    const ollama = report.backends.find((backend) => backend.backend === 'ollama')!;
    expect(ollama.checks.map((check) => [check.check, check.ok])).toEqual([
      ['configured', true],
      ['reachable', true],
      ['model', true],
      ['strict_json', true],
    ]);
    expect(ollama.usable).toBe(true);
    expect(
      server.requests.some(
        (request) => request.path === '/api/chat' && (request.body as { format?: unknown }).format !== undefined,
      ),
    ).toBe(true);
  }, 120_000);

  it('plan --llm asks the model through /api/chat with explicit num_ctx and prints one JSON plan', async () => {
    const before = server.requests.length;
    const run = await runCli(
      ['plan', '-i', 'add a module docstring to calc.py', '-f', 'calc.py', '--llm', '--no-cache'],
      { env: envFor(server.url), cwd: repo, timeoutMs: 120_000 },
    );
    expect(run.status).toBe(0);
    const plan = JSON.parse(run.stdout) as { actions: unknown[] };
    expect(plan.actions.length).toBeGreaterThan(0);
    const chats = server.requests.slice(before).filter((request) => request.path === '/api/chat');
    expect(chats.length).toBeGreaterThan(0);
    const options = (chats[0]!.body as { model: string; options: { num_ctx: number; num_predict: number } }).options;
    expect((chats[0]!.body as { model: string }).model).toBe('nerion-tiny');
    expect(options.num_ctx).toBeGreaterThanOrEqual(2048);
    expect(options.num_predict).toBeGreaterThan(0);
  }, 120_000);

  it('models bench --json measures the ollama backend', async () => {
    const run = await runCli(
      [
        'models',
        'bench',
        '--backends',
        'ollama',
        '--models',
        'nerion-tiny',
        '--runs',
        '1',
        '--max-tokens',
        '8',
        '--json',
      ],
      { env: envFor(server.url), timeoutMs: 120_000 },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ backend: 'ollama', model: 'nerion-tiny', status: 'ok' });
  }, 120_000);

  it('with nothing listening, doctor, plan (strict), models ensure and models bench fail fast with the "start Ollama" message', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    const message = `Ollama is not answering at ${baseUrl} (connection refused: nothing listens on that port, ECONNREFUSED) — start it with \`env OLLAMA_HOST=127.0.0.1:${new URL(baseUrl).port} ollama serve\``;
    const started = performance.now();

    const doctor = await runCli(['doctor', '--json'], { env: envFor(baseUrl), timeoutMs: 60_000 });
    const ollama = (JSON.parse(doctor.stdout) as DoctorJson).backends.find((backend) => backend.backend === 'ollama')!;
    expect(ollama.checks.find((check) => check.check === 'reachable')).toMatchObject({ ok: false });
    expect(ollama.checks.find((check) => check.check === 'reachable')!.detail).toContain(message);
    expect(doctor.status).not.toBe(0);

    const plan = await runCli(
      ['plan', '-i', 'add a module docstring to calc.py', '-f', 'calc.py', '--llm', '--no-cache'],
      { env: { ...envFor(baseUrl), NERION_LLM_STRICT: '1' }, cwd: repo, timeoutMs: 60_000 },
    );
    expect(plan.status).not.toBe(0);
    expect(plan.stdout).toBe('');
    expect(plan.stderr).toContain(message);

    const ensure = await runCli(['models', 'ensure', '--backend', 'ollama', '--model', 'nerion-tiny', '--yes'], {
      env: envFor(baseUrl),
      timeoutMs: 60_000,
    });
    expect(ensure.status).not.toBe(0);
    expect(ensure.stderr).toContain(message);

    const bench = await runCli(['models', 'bench', '--backends', 'ollama', '--models', 'nerion-tiny', '--runs', '1'], {
      env: envFor(baseUrl),
      timeoutMs: 60_000,
    });
    expect(bench.stdout).toMatch(/^backend\tmodel\tlatency_s\nollama\tnerion-tiny\tn\/a\n$/);
    expect(bench.stderr).toContain(message);

    // Four CLI starts on a shared 2-core machine: "fast" means no waiting on timeouts, not a benchmark.
    expect(performance.now() - started).toBeLessThan(40_000);
  }, 120_000);
});

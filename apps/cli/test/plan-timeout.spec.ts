import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, instantEngine, startLocalOllamaServer, type LocalOllamaServer } from '@nerion/test-support';
import { runCli } from './run-cli.js';

/**
 * `plan --llm --timeout S` against a model that stalls: the protocol-faithful Ollama stand-in (NOT Ollama)
 * with an engine that waits 10 minutes before its first token. The plan must stop within the bound (generous
 * here: well under the stall), fail with TIMEOUT naming the limit and the flag (strict), cache nothing, and
 * the stand-in must see the request go away (nerion closes it rather than leaving it generating).
 */
describe('plan --llm --timeout against a stalling model (Ollama stand-in)', () => {
  let server: LocalOllamaServer;
  let repo: string;

  beforeAll(async () => {
    server = await startLocalOllamaServer({
      models: { 'nerion-tiny': fixturePaths().tinyLlama },
      engineFactory: async () => instantEngine({ latencyMs: 600_000 }),
    });
    repo = mkdtempSync(join(tmpdir(), 'nerion-plan-timeout-'));
    mkdirSync(join(repo, 'app'));
    writeFileSync(join(repo, 'app', 'calc.py'), 'def add(a, b):\n    return a + b\n');
    execFileSync('git', ['init', '-q'], { cwd: repo });
  }, 60_000);

  afterAll(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    NERION_CODER_BACKEND: 'ollama',
    NERION_CODER_MODEL: 'nerion-tiny',
    NERION_CODER_BASE_URL: server.url,
    NERION_CACHE_DIR: join(repo, '.cache'),
    ...extra,
  });
  const args = ['plan', '-i', 'add module docstring', '-f', 'app/calc.py', '--llm', '--timeout', '2'];
  const generations = () => server.requests.filter((request) => request.path === '/api/chat').length;

  it('strict: TIMEOUT (exit 6) naming the limit, well before the stall ends; nothing cached, so a second run asks the model again', async () => {
    const before = generations();
    const started = performance.now();
    const run = await runCli(args, { cwd: repo, env: env({ NERION_LLM_STRICT: '1' }), timeoutMs: 120_000 });
    const elapsedMs = performance.now() - started;
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'Error [TIMEOUT]: The ollama/nerion-tiny plan did not finish within 2 s (the model request was cut) — raise the limit with --timeout (seconds), lower --max-tokens, or use a faster model.',
    );
    expect(run.status).toBe(6);
    expect(elapsedMs).toBeLessThan(60_000);
    expect(generations()).toBe(before + 1);

    const cache = join(repo, '.nerion', 'plan_cache.json');
    if (existsSync(cache)) expect(readFileSync(cache, 'utf8')).not.toContain('"actions"');
    const again = await runCli([...args, '--json'], {
      cwd: repo,
      env: env({ NERION_LLM_STRICT: '1' }),
      timeoutMs: 120_000,
    });
    expect(again.status).toBe(6);
    expect((JSON.parse(again.stdout) as { error: { code: string } }).error.code).toBe('TIMEOUT');
    expect(generations()).toBe(before + 2);
  }, 240_000);

  it('not strict: a one-line warning names the timeout and the heuristic plan is printed; no LLM plan is cached', async () => {
    const before = generations();
    const run = await runCli(args, { cwd: repo, env: env(), timeoutMs: 120_000 });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ metadata: { source: 'heuristic-fallback' } });
    expect(run.stderr).toMatch(
      /^warning: the ollama\/nerion-tiny plan .*\[TIMEOUT\] The ollama\/nerion-tiny plan did not finish within 2 s/m,
    );
    expect(generations()).toBe(before + 1);
    const again = await runCli(args, { cwd: repo, env: env(), timeoutMs: 120_000 });
    expect(again.status).toBe(0);
    expect(generations()).toBe(before + 2);
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, startLocalOllamaServer, type LocalOllamaServer } from '@nerion/test-support';
import { runCli } from './run-cli.js';
import { runCliInTerminal, screenLines } from './terminal.js';

/** `plan --llm --max-tokens` / NERION_PLAN_MAX_TOKENS and `--timeout`, against the Ollama stand-in (libs/test-support). */
describe('plan --max-tokens, NERION_PLAN_MAX_TOKENS, --timeout (Ollama stand-in on a tiny GGUF)', () => {
  let server: LocalOllamaServer;
  let repo: string;

  beforeAll(async () => {
    server = await startLocalOllamaServer({ models: { 'nerion-tiny': fixturePaths().tinyLlama }, threads: 1 });
    repo = mkdtempSync(join(tmpdir(), 'nerion-plan-limits-'));
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

  const numPredicts = (from: number): unknown[] =>
    server.requests
      .slice(from)
      .filter((request) => request.path === '/api/chat')
      .map((request) => (request.body as { options?: { num_predict?: unknown } }).options?.num_predict);

  it('--max-tokens reaches the model request; NERION_PLAN_MAX_TOKENS does too, and the flag wins over it', async () => {
    const args = ['plan', '-i', 'add module docstring', '-f', 'app/calc.py', '--llm', '--no-cache'];
    let from = server.requests.length;
    const flagged = await runCli([...args, '--max-tokens', '77', '--timeout', '60'], { cwd: repo, env: env() });
    expect(flagged.status).toBe(0);
    expect(JSON.parse(flagged.stdout)).toHaveProperty('actions');
    expect(numPredicts(from).length).toBeGreaterThan(0);
    expect(new Set(numPredicts(from))).toEqual(new Set([77]));

    from = server.requests.length;
    const fromEnv = await runCli(args, { cwd: repo, env: env({ NERION_PLAN_MAX_TOKENS: '55' }) });
    expect(fromEnv.status).toBe(0);
    expect(new Set(numPredicts(from))).toEqual(new Set([55]));

    from = server.requests.length;
    const both = await runCli([...args, '--max-tokens', '66'], {
      cwd: repo,
      env: env({ NERION_PLAN_MAX_TOKENS: '55' }),
    });
    expect(both.status).toBe(0);
    expect(new Set(numPredicts(from))).toEqual(new Set([66]));
  }, 180_000);

  it('a bad NERION_PLAN_MAX_TOKENS is CONFIG_INVALID naming the variable and its flag', async () => {
    const run = await runCli(['plan', '-i', 'add module docstring', '-f', 'app/calc.py', '--llm', '--no-cache'], {
      cwd: repo,
      env: env({ NERION_PLAN_MAX_TOKENS: 'lots' }),
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('NERION_PLAN_MAX_TOKENS="lots" must be a positive whole number');
    expect(run.stderr).toContain('--max-tokens');
  }, 60_000);

  it('a fallback warning is one line and never ends inside a word or a number', async () => {
    const run = await runCli(
      ['plan', '-i', 'add module docstring', '-f', 'app/calc.py', '--llm', '--no-cache', '--max-tokens', '3'],
      { cwd: repo, env: env() },
    );
    expect(run.status).toBe(0);
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning: the ollama/'));
    expect(warnings).toHaveLength(1);
    const reason = /\((.*)\); using the heuristic plan instead/.exec(warnings[0]!)?.[1] ?? '';
    expect(reason.length).toBeGreaterThan(0);
    // Bounded with an ellipsis after a whole word, or whole: never "stopped at ma" or "(15".
    if (reason.endsWith('…')) expect(reason).toMatch(/[\p{L}\p{N}.)'"`]…$/u);
    expect(reason).not.toMatch(/\(\d*…$/u);
  }, 120_000);
});

describe('plan --llm on a terminal: a spinner with tokens/s on stderr, the plan alone on stdout (Ollama stand-in)', () => {
  let server: LocalOllamaServer;
  let repo: string;

  beforeAll(async () => {
    server = await startLocalOllamaServer({ models: { 'nerion-tiny': fixturePaths().tinyLlama }, threads: 1 });
    repo = mkdtempSync(join(tmpdir(), 'nerion-plan-spinner-'));
    mkdirSync(join(repo, 'app'));
    writeFileSync(join(repo, 'app', 'calc.py'), 'def add(a, b):\n    return a + b\n');
    execFileSync('git', ['init', '-q'], { cwd: repo });
  }, 60_000);

  afterAll(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const args = ['plan', '-i', 'add module docstring', '-f', 'app/calc.py', '--llm', '--no-cache', '--max-tokens', '40'];
  const env = () => ({
    NERION_CODER_BACKEND: 'ollama',
    NERION_CODER_MODEL: 'nerion-tiny',
    NERION_CODER_BASE_URL: server.url,
    NERION_CACHE_DIR: join(repo, '.cache'),
  });

  it('TTY: the spinner shows tokens and tokens/s, then is erased; the screen ends with the JSON plan', async () => {
    const run = await runCliInTerminal(args, { cwd: repo, env: env(), timeoutMs: 120_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ollama\/nerion-tiny: \d+ tokens, \d+\.\d tokens\/s/u);
    const screen = screenLines(run.stdout).join('\n');
    expect(screen).not.toMatch(/tokens\/s/);
    const plan = screen.slice(screen.indexOf('{'));
    expect(JSON.parse(plan)).toHaveProperty('actions');
  }, 180_000);

  it('piped: no spinner on stderr, exactly one JSON plan on stdout', async () => {
    const run = await runCli(args, { cwd: repo, env: env(), timeoutMs: 120_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toMatch(/tokens\/s/);
    expect(JSON.parse(run.stdout)).toHaveProperty('actions');
  }, 180_000);
});

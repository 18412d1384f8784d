import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFiguresPath, LOAD_COLUMNS, LOAD_TSV_HEADER } from '@nerion/bench';
import { loadCatalog, resolveModelForBackend } from '@nerion/catalog';
import type { CoderBackend, StreamPart } from '@nerion/backend-core';
import { fixturePaths, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@nerion/test-support';
import { runCli } from './run-cli.js';

const family = 'qwen2.5-coder';
const NUMBER = /^\d+\.\d{2}$/;

/** A replay engine for the stand-in: 4 fixed parts, 2 ms apart. Not a model, and named so. */
function replayEngine(): CoderBackend {
  const parts = ['def', ' add', '(a, b):', ' return a + b'];
  const result = {
    text: parts.join(''),
    finishReason: 'stop' as const,
    usage: { promptTokens: 12, completionTokens: parts.length },
    timings: { totalMs: 8 },
    model: 'replay',
    warnings: [],
  };
  return {
    specificationVersion: 'v1',
    id: 'llama_cpp',
    model: 'replay',
    supportsConstrainedDecoding: false,
    probe: async () => ({ available: true }),
    generate: async () => result,
    async *stream(): AsyncGenerator<StreamPart> {
      for (const text of parts) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        yield { type: 'text-delta', text };
      }
      yield { type: 'finish', result };
    },
    close: async () => undefined,
  };
}

/**
 * `nerion models bench` in load mode (--requests/--concurrency/--rate): the built binary, with real llama.cpp
 * on the tiny GGUF fixture, and the vllm backend against the protocol-faithful OpenAI-compatible stand-in
 * (NOT vLLM) with a replay engine. The seed table without these flags is pinned in bench.spec.ts.
 */
describe('nerion models bench --requests/--concurrency/--rate (load mode)', () => {
  let home: string;
  let openai: OpenAICompatibleServer;
  const env = (): Record<string, string> => ({
    HOME: home,
    NERION_CACHE_DIR: join(home, 'cache'),
    LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama,
    NERION_LLAMA_THREADS: '1',
    NERION_VLLM_BASE_URL: openai.url, // vLLM's own endpoint (NERION_CODER_BASE_URL is the selected backend's)
  });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-bench-load-'));
    const vllm = resolveModelForBackend(loadCatalog(), 'vllm', family);
    openai = await startOpenAICompatibleServer({
      models: { [family]: 'unused.gguf', [vllm.name]: 'unused.gguf' },
      createBackend: async () => replayEngine(),
    });
  });

  afterAll(async () => {
    await openai?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('llama_cpp on the GGUF: the documented load table, counts adding up, no figures recorded for auto-select', async () => {
    const run = await runCli(
      [
        'models',
        'bench',
        '--backends',
        'llama_cpp',
        '--models',
        family,
        '--requests',
        '4',
        '--concurrency',
        '2',
      ].concat(['--max-tokens', '8']),
      { env: env(), timeoutMs: 120_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [header, row, ...rest] = run.stdout.split('\n');
    expect(header).toBe(LOAD_TSV_HEADER);
    expect(rest).toEqual(['']);
    const cells = row!.split('\t');
    expect(cells).toHaveLength(LOAD_COLUMNS.length);
    expect(cells.slice(0, 5)).toEqual(['llama_cpp', family, 'ok', '4', '0']);
    for (const cell of [cells[5], cells[6], ...cells.slice(7, 11), ...cells.slice(19)]) expect(cell).toMatch(NUMBER);
    expect(existsSync(benchFiguresPath(join(home, 'cache')))).toBe(false);
  });

  it('vllm (stand-in) and llama_cpp under the same load, with --json: the full report of both', async () => {
    const run = await runCli(
      [
        'models',
        'bench',
        '--backends',
        'vllm,llama_cpp',
        '--models',
        family,
        '--requests',
        '6',
        '--concurrency',
        '3',
      ].concat(['--rate', '200', '--max-tokens', '8', '--json']),
      { env: env(), timeoutMs: 120_000 },
    );
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.settings.loadTest).toMatchObject({ concurrency: 3, requests: 6, rate: 200, arrivals: 'poisson' });
    expect(report.results.map((result: { backend: string }) => result.backend)).toEqual(['vllm', 'llama_cpp']);
    for (const result of report.results) {
      expect(result.status).toBe('ok');
      expect(result.loadTest.completed + result.loadTest.failed).toBe(6);
      expect(result.loadTest.records).toHaveLength(6);
      for (const key of ['timeToFirstTokenMs', 'endToEndLatencyMs']) {
        expect(Object.keys(result.loadTest[key]).sort()).toEqual(
          ['count', 'max', 'mean', 'median', 'min', 'p95', 'p99', 'std'].sort(),
        );
      }
    }
    // The stand-in's replay engine streams 4 parts: 4 output tokens (usage) and 3 inter-token gaps per request.
    const vllm = report.results[0].loadTest;
    expect(vllm.completed).toBe(6);
    expect(vllm.totalOutputTokens).toBe(24);
    expect(vllm.interTokenLatencyMs.count).toBe(18);
  });

  it('CSV and Markdown have the same columns', async () => {
    const csv = await runCli(
      ['models', 'bench', '--backends', 'vllm', '--models', family, '--requests', '2', '--format', 'csv'],
      { env: env(), timeoutMs: 60_000 },
    );
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe(LOAD_COLUMNS.join(','));
    expect(csv.stdout.split('\r\n')[1]).toMatch(/^vllm,qwen2\.5-coder,ok,2,0,/);
  });

  it('refuses a bad --rate (CONFIG_INVALID), --concurrency without --requests, and load mode with --task plan', async () => {
    const rate = await runCli(['models', 'bench', '--backends', 'vllm', '--requests', '2', '--rate', 'fast'], {
      env: env(),
    });
    expect(rate.status).toBe(2);
    expect(rate.stderr).toContain('--rate must be a positive number of requests per second');
    const lonely = await runCli(['models', 'bench', '--backends', 'vllm', '--concurrency', '2'], { env: env() });
    expect(lonely.status).not.toBe(0);
    expect(lonely.stderr).toMatch(/--requests/);
    const plan = await runCli(['models', 'bench', '--backends', 'vllm', '--requests', '2', '--task', 'plan'], {
      env: env(),
    });
    expect(plan.status).toBe(2);
    expect(plan.stderr).toContain('does not plan');
  });
});

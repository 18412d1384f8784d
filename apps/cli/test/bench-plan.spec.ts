import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, writeTinyGguf } from '@nerion/test-support';
import { runCli } from './run-cli.js';

// `nerion models bench --task plan` through the built binary on real llama.cpp: the project's random-weight
// GGUF never writes a right plan, so the figures are near zero — the test proves the pipeline (plan each
// bench instruction, validate, check with the evaluation set's checker, report, record for auto-selection).
describe('nerion models bench --task plan (built binary; real llama.cpp on a generated GGUF, Ollama down)', () => {
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-bench-plan-'));
    // The plan prompt (kinds, payload schemas, an example, the target excerpt) is ~3,200 tokens of this
    // byte-level vocabulary: the model needs a context longer than the default fixture's 2,048.
    const model = join(home, 'tiny-8k.gguf');
    await writeTinyGguf(model, { contextLength: 8192 });
    env = {
      HOME: home,
      NERION_CACHE_DIR: join(home, 'cache'),
      LLAMA_CPP_MODEL_PATH: model,
      NERION_LLAMA_THREADS: '1',
      NERION_CODER_BASE_URL: `http://127.0.0.1:${await closedPort()}`,
    };
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const args = ['models', 'bench', '--task', 'plan', '--models', 'qwen2.5-coder', '--runs', '1', '--warmup', '0'];
  const small = ['--max-tokens', '16', '--json-grammar'];

  it('TSV: adds valid_plans and right_plans next to latency, n/a for an unavailable backend; records the figures', async () => {
    const result = await runCli([...args, '--backends', 'llama_cpp', 'ollama', ...small], { env, timeoutMs: 240_000 });
    expect(result.stderr).toMatch(/n\/a ollama\/qwen2\.5-coder \(unavailable\)/u);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('backend\tmodel\tlatency_s\tvalid_plans\tright_plans');
    expect(lines[1]).toMatch(/^llama_cpp\tqwen2\.5-coder\t\d+\.\d{3}\t[01]\.\d{3}\t[01]\.\d{3}$/u);
    expect(lines[2]).toBe('ollama\tqwen2.5-coder\tn/a\tn/a\tn/a');
    expect(lines).toHaveLength(3);
    // NERION_CODER_AUTO ranks by these figures (the catalog's auto-selection reads them).
    const figures = JSON.parse(await readFile(join(home, 'cache', 'bench', 'last.json'), 'utf8')) as {
      figures: unknown[];
    };
    expect(figures.figures).toEqual([
      {
        backend: 'llama_cpp',
        model: 'qwen2.5-coder',
        plan: { valid: expect.any(Number), right: expect.any(Number), cases: 1 },
      },
    ]);
  }, 300_000);

  it('--json: each run is one planning instruction with its verdict; quality sums them', async () => {
    const result = await runCli([...args, '--backends', 'llama_cpp', ...small, '--json'], { env, timeoutMs: 240_000 });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.settings).toMatchObject({ task: 'plan', runs: 1, warmup: 0 });
    const [row] = report.results;
    expect(row).toMatchObject({ backend: 'llama_cpp', status: 'ok', quality: { runs: 1 } });
    expect(row.quality.validShare).toBe(row.quality.valid);
    const [run] = row.samples;
    expect(run.latencyMs).toBeGreaterThan(0);
    expect(typeof run.valid).toBe('boolean');
    expect(typeof run.right).toBe('boolean');
    // The random model's answer is cut at 16 tokens: not a valid plan, and the note says why.
    if (!run.right) expect(run.note).toMatch(/^py-01: /u);
    // A latency run afterwards keeps the plan figures of the same combination (and vice versa).
    const speed = await runCli(
      ['models', 'bench', '--backends', 'llama_cpp', '--models', 'qwen2.5-coder', '--runs', '1', '--max-tokens', '4'],
      { env, timeoutMs: 120_000 },
    );
    expect(speed.status).toBe(0);
    const figures = JSON.parse(await readFile(join(home, 'cache', 'bench', 'last.json'), 'utf8')) as {
      figures: Record<string, unknown>[];
    };
    expect(figures.figures).toEqual([
      expect.objectContaining({ plan: expect.any(Object), latencySeconds: expect.any(Number) }),
    ]);
  }, 300_000);
});

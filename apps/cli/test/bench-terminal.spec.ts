import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '@nerion/test-support';
import { runCli } from './run-cli.js';
import { runCliInTerminal, screenLines } from './terminal.js';

/** `models bench` as a person sees it (real pseudo-terminal via `script`) and as a pipe reads it. */
describe('models bench on a terminal vs piped (nothing answers: every combination is n/a)', () => {
  const args = (verbose = false) => [
    'models',
    'bench',
    '--backends',
    'ollama',
    'llama_cpp',
    'vllm',
    'exllamav2',
    '--models',
    'qwen2.5-coder',
    'codellama',
    '--timeout',
    '20',
    ...(verbose ? ['--verbose'] : []),
  ];

  async function withEnv<T>(run: (env: Record<string, string>) => Promise<T>): Promise<T> {
    const cache = mkdtempSync(join(tmpdir(), 'nerion-bench-tty-'));
    try {
      return await run({ NERION_CACHE_DIR: cache, NERION_CODER_BASE_URL: `http://127.0.0.1:${await closedPort()}` });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }

  it('TTY: an aligned table, one short reason per n/a, and overall progress with an ETA', async () => {
    const run = await withEnv((env) => runCliInTerminal(args(), { env, timeoutMs: 120_000 }));
    expect(run.status).toBe(0);
    const lines = screenLines(run.stdout);
    const header = lines.find((line) => line.startsWith('backend'));
    expect(header).toBe('backend    model          latency_s');
    const rows = lines.filter((line) => /^(ollama|llama_cpp|vllm|exllamav2) /.test(line));
    expect(rows).toHaveLength(8);
    expect(rows[0]).toBe('ollama     qwen2.5-coder        n/a');
    // Every row's figure ends in the latency column (aligned under the header's end).
    for (const row of rows) expect(row.length).toBe(header!.length);
    expect(run.stdout).not.toContain('\t');
    const reasons = lines.filter((line) => line.startsWith('n/a '));
    expect(reasons).toHaveLength(8); // one per n/a, never twice
    for (const reason of reasons) expect(reason.length).toBeLessThanOrEqual(160);
    // The progress line was drawn (then erased): overall position, and an ETA once one combination finished.
    expect(run.stdout).toMatch(/\[1\/8\] ollama\/qwen2\.5-coder: /);
    expect(run.stdout).toMatch(/\[2\/8, ~\d+(s|m\d\ds) left\] /);
  }, 180_000);

  it('TTY --verbose: each n/a reason in full', async () => {
    const run = await withEnv((env) => runCliInTerminal(args(true), { env, timeoutMs: 120_000 }));
    expect(run.status).toBe(0);
    const reasons = screenLines(run.stdout).filter((line) => line.startsWith('n/a vllm/'));
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toContain('vllm serve');
    expect(reasons[0]!.endsWith('…')).toBe(false);
  }, 180_000);

  it('piped: the exact TSV on stdout, full reasons on stderr, no progress line', async () => {
    const run = await withEnv((env) => runCli(args(), { env, timeoutMs: 120_000 }));
    expect(run.status).toBe(0);
    const expected = ['backend\tmodel\tlatency_s'];
    for (const backend of ['ollama', 'llama_cpp', 'vllm', 'exllamav2'])
      for (const model of ['qwen2.5-coder', 'codellama']) expected.push(`${backend}\t${model}\tn/a`);
    expect(run.stdout).toBe(`${expected.join('\n')}\n`);
    expect(run.stderr).not.toContain('\u001b[2K');
    expect(run.stderr).not.toMatch(/left\]/);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('n/a '))).toHaveLength(8);
  }, 180_000);
});

describe('models bench with LLAMA_CPP_MODEL_PATH and several model names', () => {
  it('warns once that the names are labels of one file (product-spec §2), and not for one name', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'nerion-bench-label-'));
    try {
      const env = { NERION_CACHE_DIR: cache, LLAMA_CPP_MODEL_PATH: join(cache, 'one.gguf') };
      const several = await runCli(
        ['models', 'bench', '--backends', 'llama_cpp', '--models', 'qwen2.5-coder', 'codellama', '--timeout', '20'],
        { env },
      );
      expect(several.status).toBe(0);
      const warnings = several.stderr.split('\n').filter((line) => line.includes('are labels of one file'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`llama_cpp runs ${join(cache, 'one.gguf')} for every model name`);
      const one = await runCli(
        ['models', 'bench', '--backends', 'llama_cpp', '--models', 'codellama', '--timeout', '20'],
        {
          env,
        },
      );
      expect(one.stderr).not.toContain('are labels of one file');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, closedPort } from '@nerion/test-support';
import { CLI_BIN, runCli } from './run-cli.js';

/** A server that accepts connections and never answers: a backend that hangs. */
async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const TSV_ROW = /^(\S+)\t(\S+)\t(\d+\.\d{3}|n\/a)$/;

describe('nerion models bench (built binary; real llama.cpp on the tiny GGUF fixture, other backends down)', () => {
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-bench-'));
    env = {
      HOME: home,
      NERION_CACHE_DIR: join(home, 'cache'),
      LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama,
      NERION_LLAMA_THREADS: '1',
      // ollama and vllm: nothing listens there. exllamav2: no such Python, so no bindings.
      NERION_CODER_BASE_URL: `http://127.0.0.1:${await closedPort()}`,
      NERION_PYTHON: join(home, 'no-such-python3'),
    };
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('prints the seed table: header, one row per combination in the order given, real llama.cpp seconds, n/a for the down backends with reasons on stderr, exit 0', async () => {
    const result = await runCli(
      [
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
        '--runs',
        '2',
        '--warmup',
        '1',
        '--timeout',
        '60',
        '--max-tokens',
        '16',
      ],
      { env, timeoutMs: 120_000 },
    );
    expect(result.stderr).not.toContain('Error [');
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.pop()).toBe(''); // ends with a newline
    expect(lines[0]).toBe('backend\tmodel\tlatency_s');
    const rows = lines.slice(1).map((line) => {
      const match = TSV_ROW.exec(line);
      expect(match).not.toBeNull();
      return { backend: match![1], model: match![2], latency: match![3] };
    });
    expect(rows.map((row) => `${row.backend}/${row.model}`)).toEqual([
      'ollama/qwen2.5-coder',
      'ollama/codellama',
      'llama_cpp/qwen2.5-coder',
      'llama_cpp/codellama',
      'vllm/qwen2.5-coder',
      'vllm/codellama',
      'exllamav2/qwen2.5-coder',
      'exllamav2/codellama',
    ]);
    for (const row of rows) {
      if (row.backend === 'llama_cpp') {
        expect(row.latency).toMatch(/^\d+\.\d{3}$/);
        expect(Number(row.latency)).toBeGreaterThan(0);
      } else {
        expect(row.latency).toBe('n/a');
        expect(result.stderr).toMatch(
          new RegExp(
            `^n/a ${row.backend}/${row.model.replace('.', '\\.')} \\((unavailable|error|timeout)\\): \\S.+$`,
            'm',
          ),
        );
      }
    }
  });

  it('--json reports what @nerion/bench measured: p50/p95, TTFT, tokens/s, load time apart from latency', async () => {
    const result = await runCli(
      [
        'models',
        'bench',
        '--backends',
        'llama_cpp',
        '--models',
        'qwen2.5-coder',
        '--runs',
        '3',
        '--warmup',
        '2',
        '--max-tokens',
        '24',
        '--json',
      ],
      {
        env,
        timeoutMs: 120_000,
      },
    );
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.settings).toMatchObject({
      backends: ['llama_cpp'],
      models: ['qwen2.5-coder'],
      runs: 3,
      warmup: 2,
      maxTokens: 24,
      concurrency: 'sequential',
    });
    const [bench] = report.results;
    expect(bench).toMatchObject({ backend: 'llama_cpp', model: 'qwen2.5-coder', status: 'ok', phase: 'done' });
    expect(bench.samples).toHaveLength(3);
    expect(bench.latencyMs).toBeGreaterThan(0);
    expect(bench.latency.p50).toBe(bench.latencyMs);
    expect(bench.latency.p95).toBeGreaterThanOrEqual(bench.latency.p50);
    expect(bench.latency.max).toBeGreaterThanOrEqual(bench.latency.p95);
    for (const run of bench.samples) {
      expect(run.latencyMs).toBeGreaterThan(0);
      expect(run.completionTokens).toBeGreaterThanOrEqual(1);
      expect(run.completionTokens).toBeLessThanOrEqual(24);
      expect(run.promptTokens).toBeGreaterThan(0);
    }
    expect(bench.timeToFirstTokenMs.median).toBeGreaterThan(0);
    expect(bench.timeToFirstTokenMs.median).toBeLessThanOrEqual(bench.latency.max);
    expect(bench.promptTokensPerSecond.median).toBeGreaterThan(0);
    // Load is its own figure: llama.cpp reports the model/context load of the first request.
    expect(bench.load.totalMs).toBeGreaterThan(0);
    expect(bench.load.firstRequestMs).toBeGreaterThan(0);
    expect(bench.load.createMs).toBeGreaterThanOrEqual(0);
    expect(bench.load.probeMs).toBeGreaterThan(0);
  });

  it('streams each row as its combination finishes: the llama.cpp row is out while a hanging backend is still being measured, and the hang is cut', async () => {
    const silent = await silentServer();
    try {
      const child = spawn(
        process.execPath,
        [
          CLI_BIN,
          'models',
          'bench',
          '--backends',
          'llama_cpp',
          'ollama',
          '--models',
          'qwen2.5-coder',
          '--runs',
          '1',
          '--timeout',
          '12',
          '--max-tokens',
          '8',
        ],
        {
          env: { PATH: process.env.PATH ?? '', CI: 'true', ...env, NERION_CODER_BASE_URL: silent.url },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      let exited = false;
      let stdoutWhenLlamaRowArrived: string | undefined;
      let exitedWhenLlamaRowArrived: boolean | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdoutWhenLlamaRowArrived === undefined && /^llama_cpp\t/m.test(stdout)) {
          stdoutWhenLlamaRowArrived = stdout;
          exitedWhenLlamaRowArrived = exited;
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const started = performance.now();
      const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      exited = true;
      const elapsed = performance.now() - started;
      expect(status).toBe(0);
      expect(stdoutWhenLlamaRowArrived).toMatch(/^backend\tmodel\tlatency_s\nllama_cpp\tqwen2\.5-coder\t\d+\.\d{3}\n$/);
      expect(exitedWhenLlamaRowArrived).toBe(false);
      expect(stdout).toMatch(/\nollama\tqwen2\.5-coder\tn\/a\n$/);
      expect(stderr).toMatch(/^n\/a ollama\/qwen2\.5-coder \((unavailable|timeout)\): \S/m);
      expect(elapsed).toBeLessThan(60_000); // promptly: the silent server never blocks the bench
    } finally {
      await silent.close();
    }
  });

  it('an unknown backend is CONFIG_INVALID (exit 2) naming the valid ones; nothing is measured', async () => {
    const result = await runCli(['models', 'bench', '--backends', 'ollama', 'tensorrt', '--models', 'codellama'], {
      env,
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Error [CONFIG_INVALID]');
    expect(result.stderr).toContain('"tensorrt"');
    expect(result.stderr).toContain('ollama, llama_cpp, vllm, exllamav2');
    const json = await runCli(['models', 'bench', '--backends', 'tensorrt', '--json'], { env });
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'CONFIG_INVALID', exitStatus: 2 } });
  });

  it('accepts comma-separated lists and backend aliases too', async () => {
    const result = await runCli(
      ['models', 'bench', '--backends=exllama,vllm', '--models', 'codellama,starcoder2', '--runs', '1'],
      { env },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      'backend\tmodel\tlatency_s\nexllamav2\tcodellama\tn/a\nexllamav2\tstarcoder2\tn/a\nvllm\tcodellama\tn/a\nvllm\tstarcoder2\tn/a\n',
    );
  });

  it('defaults to all four backends × all four families', async () => {
    const result = await runCli(['models', 'bench', '--backends', 'vllm', '--runs', '1'], { env });
    expect(result.status).toBe(0);
    expect(
      result.stdout
        .split('\n')
        .slice(1, -1)
        .map((line) => line.split('\t')[1]),
    ).toEqual(['deepseek-coder-v2', 'qwen2.5-coder', 'starcoder2', 'codellama']);
    const backends = await runCli(['models', 'bench', '--models', 'codellama', '--runs', '1', '--max-tokens', '4'], {
      env,
      timeoutMs: 120_000,
    });
    expect(backends.status).toBe(0);
    expect(
      backends.stdout
        .split('\n')
        .slice(1, -1)
        .map((line) => line.split('\t')[0]),
    ).toEqual(['ollama', 'llama_cpp', 'vllm', 'exllamav2']);
  });
});

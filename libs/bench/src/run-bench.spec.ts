import { describe, expect, it } from '@jest/globals';
import {
  CODER_BACKEND_SPECIFICATION_VERSION,
  NerionError,
  type BackendId,
  type CoderBackend,
  type GenerateRequest,
  type GenerateResult,
  type ProbeResult,
} from '@nerion/backend-core';
import { runBench, type BenchResult } from './index.js';

/**
 * Scripted backends (timers, no engine): these tests pin the bench's orchestration — order, streaming,
 * unavailable rows, cutting a hung combination, counting warm-ups and runs. Real engines are measured
 * in apps/cli/test/bench.spec.ts and tools/bench/bench-honesty.ts.
 */
interface Script {
  probe?: ProbeResult;
  /** ms per generate(); 'hang' never settles and ignores the abort signal. */
  delayMs?: number | 'hang';
  createError?: NerionError;
  generateError?: NerionError;
  /** generate() reports no TTFT (like a non-streaming HTTP call); stream() gives a first delta after 3 ms. */
  noTimeToFirstToken?: boolean;
}

interface Calls {
  generate: number;
  stream: number;
  closed: number;
  requests: GenerateRequest[];
}

function scriptedBackend(id: BackendId, model: string, script: Script, calls: Calls): CoderBackend {
  return {
    specificationVersion: CODER_BACKEND_SPECIFICATION_VERSION,
    id,
    model: `${model}:served`,
    supportsConstrainedDecoding: false,
    async probe() {
      return script.probe ?? { available: true };
    },
    generate(request: GenerateRequest): Promise<GenerateResult> {
      calls.generate += 1;
      calls.requests.push(request);
      if (script.generateError) return Promise.reject(script.generateError);
      if (script.delayMs === 'hang') return new Promise<GenerateResult>(() => undefined);
      const delay = script.delayMs ?? 5;
      return new Promise((resolve) =>
        setTimeout(
          () =>
            resolve({
              text: 'def add(a, b): return a + b',
              finishReason: 'stop',
              usage: { promptTokens: 20, completionTokens: 10 },
              timings: {
                totalMs: delay,
                ...(script.noTimeToFirstToken ? {} : { timeToFirstTokenMs: 1 }),
                promptTokensPerSecond: 2000,
              },
              model: `${model}:served`,
              warnings: ['scripted'],
            }),
          delay,
        ),
      );
    },
    async *stream(request: GenerateRequest) {
      calls.stream += 1;
      await new Promise((resolve) => setTimeout(resolve, 3));
      yield { type: 'text-delta' as const, text: 'def' };
      const result = await this.generate(request);
      calls.generate -= 1;
      yield { type: 'finish' as const, result };
    },
    async close() {
      calls.closed += 1;
    },
  };
}

function setup(scripts: Partial<Record<string, Script>>) {
  const calls = new Map<string, Calls>();
  const createBackend = async (backend: BackendId, model: string): Promise<CoderBackend> => {
    const key = `${backend}/${model}`;
    const script = scripts[key] ?? {};
    const record: Calls = { generate: 0, stream: 0, closed: 0, requests: [] };
    calls.set(key, record);
    if (script.createError) throw script.createError;
    return scriptedBackend(backend, model, script, record);
  };
  return { calls, createBackend };
}

describe('runBench with a task (`--task plan`)', () => {
  it('times one task run per sample, sums its valid/right verdicts into quality, and makes no streamed TTFT requests', async () => {
    const { calls, createBackend } = setup({ 'llama_cpp/qwen2.5-coder': { noTimeToFirstToken: true } });
    const iterations: number[] = [];
    const report = await runBench({
      backends: ['llama_cpp'],
      models: ['qwen2.5-coder'],
      createBackend,
      runs: 4,
      warmup: 1,
      timeoutMs: 10_000,
      task: {
        name: 'plan',
        async run(backend, iteration) {
          iterations.push(iteration);
          // A run may make several requests (a plan and its repair): tokens add up.
          const results = [await backend.generate({ messages: [] }), await backend.generate({ messages: [] })];
          return {
            results,
            valid: iteration !== 1,
            right: iteration === 0 || iteration === 3,
            note: `case ${iteration}`,
          };
        },
      },
    });
    const [result] = report.results;
    expect(result).toMatchObject({
      status: 'ok',
      quality: { runs: 4, valid: 3, right: 2, validShare: 0.75, rightShare: 0.5 },
    });
    expect(iterations).toEqual([-1, 0, 1, 2, 3]);
    expect(result!.samples.map((run) => [run.valid, run.right, run.note, run.completionTokens])).toEqual([
      [true, true, 'case 0', 20],
      [false, false, 'case 1', 20],
      [true, false, 'case 2', 20],
      [true, true, 'case 3', 20],
    ]);
    expect(calls.get('llama_cpp/qwen2.5-coder')!.stream).toBe(0);
    expect(report.settings.task).toBe('plan');
  });
});

describe('runBench (scripted backends)', () => {
  it('measures every combination in order (backends outer, models inner) and streams each result', async () => {
    const { calls, createBackend } = setup({});
    const streamed: string[] = [];
    const report = await runBench({
      backends: ['llama_cpp', 'ollama'],
      models: ['qwen2.5-coder', 'codellama'],
      createBackend,
      runs: 4,
      warmup: 2,
      timeoutMs: 10_000,
      onResult: (result, index, total) => streamed.push(`${index + 1}/${total} ${result.backend}/${result.model}`),
    });
    expect(streamed).toEqual([
      '1/4 llama_cpp/qwen2.5-coder',
      '2/4 llama_cpp/codellama',
      '3/4 ollama/qwen2.5-coder',
      '4/4 ollama/codellama',
    ]);
    for (const result of report.results) {
      expect(result.status).toBe('ok');
      expect(result.samples).toHaveLength(4);
      expect(result.latency!.p50).toBeGreaterThan(0);
      expect(result.latency!.p95).toBeGreaterThanOrEqual(result.latency!.p50);
      expect(result.latencyMs).toBe(result.latency!.median);
      expect(result.servedModel).toBe(`${result.model}:served`);
      expect(result.timeToFirstTokenMs?.median).toBe(1);
      expect(result.promptTokensPerSecond?.median).toBe(2000);
      expect(result.decodeTokensPerSecond?.median).toBeGreaterThan(0);
      expect(result.completionTokens).toBe(10);
      expect(result.load?.source).toBe('measured');
      expect(result.load?.firstRequestMs).toBeGreaterThan(0);
      expect(result.load!.totalMs).toBeGreaterThanOrEqual(result.load!.firstRequestMs!);
      expect(result.warnings).toEqual(['scripted']);
      // 2 warm-ups (the first one timed as the load) + 4 measured runs, then closed once.
      expect(calls.get(`${result.backend}/${result.model}`)).toMatchObject({ generate: 6, closed: 1 });
    }
    expect(report.settings).toMatchObject({ runs: 4, warmup: 2, concurrency: 'sequential' });
    expect(report.harness.name).toBe('tinybench');
  });

  it('sends the same deterministic request every time: the prompt as a user message, maxTokens, temperature 0', async () => {
    const { calls, createBackend } = setup({});
    await runBench({
      backends: ['ollama'],
      models: ['m'],
      createBackend,
      prompt: 'hello',
      maxTokens: 7,
      runs: 1,
      warmup: 0,
    });
    const [request] = calls.get('ollama/m')!.requests;
    expect(request).toMatchObject({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 7, temperature: 0 });
    expect(request!.signal).toBeInstanceOf(AbortSignal);
  });

  it('reports unavailable combinations with the probe reason or the creation error, and goes on', async () => {
    const { createBackend } = setup({
      'ollama/a': {
        probe: {
          available: false,
          reason: 'Ollama is not answering at http://127.0.0.1:9 — start it with `ollama serve`',
        },
      },
      'vllm/a': {
        createError: new NerionError('BINDINGS_UNAVAILABLE', 'exllamav2 is not installed; pip install exllamav2'),
      },
      'llama_cpp/a': { probe: { available: true, modelAvailable: false } },
    });
    const report = await runBench({
      backends: ['ollama', 'vllm', 'llama_cpp', 'exllamav2'],
      models: ['a'],
      createBackend,
      runs: 1,
      warmup: 0,
    });
    const [ollama, vllm, llama, exllama] = report.results as [BenchResult, BenchResult, BenchResult, BenchResult];
    expect(ollama).toMatchObject({
      status: 'unavailable',
      phase: 'probe',
      reason: expect.stringContaining('ollama serve'),
    });
    expect(ollama.latencyMs).toBeUndefined();
    expect(vllm).toMatchObject({ status: 'unavailable', phase: 'create', code: 'BINDINGS_UNAVAILABLE' });
    expect(llama).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('nerion models ensure') });
    expect(exllama.status).toBe('ok');
  });

  it('cuts a combination that hangs (ignoring its abort signal) at timeoutMs, closes it and measures the rest', async () => {
    const { calls, createBackend } = setup({ 'ollama/slow': { delayMs: 'hang' } });
    const started = performance.now();
    const report = await runBench({
      backends: ['ollama'],
      models: ['slow', 'fast'],
      createBackend,
      runs: 2,
      warmup: 1,
      timeoutMs: 300,
    });
    const elapsed = performance.now() - started;
    const [slow, fast] = report.results as [BenchResult, BenchResult];
    expect(slow).toMatchObject({ status: 'timeout', code: 'TIMEOUT', phase: 'load' });
    expect(slow.reason).toContain('0.3 s');
    expect(calls.get('ollama/slow')!.closed).toBe(1);
    expect(fast.status).toBe('ok');
    expect(elapsed).toBeLessThan(5_000); // promptly, not blocked by the hung request
  });

  it('an error during the runs becomes an error row with its code', async () => {
    const { createBackend } = setup({
      'ollama/x': { generateError: new NerionError('INVALID_OUTPUT', 'the model said nothing useful') },
    });
    const report = await runBench({ backends: ['ollama'], models: ['x'], createBackend, runs: 1, warmup: 1 });
    expect(report.results[0]).toMatchObject({ status: 'error', code: 'INVALID_OUTPUT', phase: 'load' });
  });

  it('takes TTFT from a few streamed requests when generate() does not report it, outside the latency samples', async () => {
    const { calls, createBackend } = setup({ 'vllm/m': { noTimeToFirstToken: true } });
    const report = await runBench({ backends: ['vllm', 'ollama'], models: ['m'], createBackend, runs: 5, warmup: 1 });
    const [vllm, ollama] = report.results as [BenchResult, BenchResult];
    expect(vllm.timeToFirstTokenSource).toBe('stream');
    expect(vllm.timeToFirstTokenMs!.median).toBeGreaterThanOrEqual(2);
    expect(vllm.samples).toHaveLength(5);
    expect(calls.get('vllm/m')).toMatchObject({ generate: 6, stream: 3 });
    expect(ollama.timeToFirstTokenSource).toBe('generate');
    expect(calls.get('ollama/m')!.stream).toBe(0);
  });

  it('with warmup 0, tinybench still takes exactly `runs` samples and the load is create + probe only', async () => {
    const { calls, createBackend } = setup({});
    const report = await runBench({ backends: ['ollama'], models: ['m'], createBackend, runs: 3, warmup: 0 });
    expect(calls.get('ollama/m')!.generate).toBe(3);
    expect(report.results[0]!.load?.firstRequestMs).toBeUndefined();
  });

  it('rejects with ABORTED when the caller aborts, after cutting the combination in flight', async () => {
    const { calls, createBackend } = setup({ 'ollama/slow': { delayMs: 'hang' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(
      runBench({
        backends: ['ollama'],
        models: ['slow', 'other'],
        createBackend,
        signal: controller.signal,
        timeoutMs: 60_000,
      }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(calls.get('ollama/slow')!.closed).toBe(1);
    expect(calls.has('ollama/other')).toBe(false);
  });

  it('refuses invalid options with INVALID_REQUEST', async () => {
    const { createBackend } = setup({});
    await expect(runBench({ backends: ['ollama'], models: ['m'], createBackend, runs: 0 })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await expect(runBench({ backends: [], models: ['m'], createBackend })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await expect(runBench({ backends: ['ollama'], models: ['m'], createBackend, warmup: 1.5 })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });
});

/**
 * runLoad against real servers on 127.0.0.1: the protocol-faithful OpenAI-compatible stand-in from
 * @nerion/test-support (vLLM-shaped; no real vLLM here) with a fixed-latency replay engine, a server that
 * never answers, and the llama_cpp backend on the generated GGUF. No timing is asserted: counts, reasons,
 * and the relations every correct measurement satisfies (TTFT ≤ end-to-end, one ITL per chunk after the first).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { type CoderBackend, type GenerateRequest, type StreamPart } from '@nerion/backend-core';
import { createOpenAICompatibleBackend } from '@nerion/backend-openai-compatible';
import { createLlamaCppBackend } from '@nerion/backend-llamacpp';
import {
  closedPort,
  fixturePaths,
  instantEngine,
  startOpenAICompatibleServer,
  type InFlightCount,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { runBench, runLoad, type BenchResult, type LoadReport } from '../src/index.js';

const MESSAGES = [{ role: 'user' as const, content: 'Write add(a, b).' }];

/** The stand-in's replay engine: the same 8 parts, `partMs` apart, counting the requests it serves at once. */
function fixedLatencyEngine(partMs: number, seen: InFlightCount = { inFlight: 0, maxInFlight: 0 }): CoderBackend {
  return instantEngine({ latencyMs: partMs, model: 'fixed-latency-replay', inFlight: seen });
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function standIn(
  partMs: number,
  extra: { dieMidStreamAfterChunks?: number } = {},
): Promise<{ server: OpenAICompatibleServer; seen: InFlightCount }> {
  const seen: InFlightCount = { inFlight: 0, maxInFlight: 0 };
  const server = await startOpenAICompatibleServer({
    ...extra,
    models: { replay: 'unused.gguf' },
    createBackend: async () => fixedLatencyEngine(partMs, seen),
  });
  cleanups.push(() => server.close());
  return { server, seen };
}

function client(url: string): CoderBackend {
  const backend = createOpenAICompatibleBackend({ id: 'vllm', model: 'replay', baseUrl: url, serverName: 'stand-in' });
  cleanups.push(() => backend.close());
  return backend;
}

const request = (): GenerateRequest => ({ messages: MESSAGES, maxTokens: 16, temperature: 0, seed: 42 });

function expectCountsAddUp(report: LoadReport, requests: number): void {
  expect(report.requests).toBe(requests);
  expect(report.completed + report.failed).toBe(requests);
  expect(report.records).toHaveLength(requests);
  expect(report.records.map((record) => record.index)).toEqual([...Array(requests).keys()]);
  expect(report.failures.reduce((sum, failure) => sum + failure.count, 0)).toBe(report.failed);
}

describe('runLoad (protocol-faithful OpenAI-compatible stand-in, fixed-latency replay engine)', () => {
  it('sends every request, never more than `concurrency` at once, and times each one from the stream', async () => {
    const { server, seen } = await standIn(5);
    const done: number[] = [];
    const report = await runLoad({
      backend: client(server.url),
      requests: 12,
      concurrency: 4,
      request,
      requestTimeoutMs: 30_000,
      onRequest: (_record, count) => done.push(count),
    });
    expectCountsAddUp(report, 12);
    expect(report).toMatchObject({ completed: 12, failed: 0, concurrency: 4, rate: null, arrivals: 'burst' });
    expect(done).toEqual([...Array(12).keys()].map((index) => index + 1));
    expect(seen.maxInFlight).toBeLessThanOrEqual(4);
    expect(seen.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(server.requests.filter((entry) => entry.path === '/v1/chat/completions')).toHaveLength(12);
    for (const record of report.records) {
      expect(record.ok).toBe(true);
      expect(record.outputTokens).toBe(8); // the usage chunk's count
      expect(record.outputTokensSource).toBe('usage');
      expect(record.promptTokens).toBe(20);
      expect(record.interTokenLatenciesMs).toHaveLength(7); // one gap per chunk after the first
      expect(record.timeToFirstTokenMs!).toBeGreaterThan(0);
      expect(record.timeToFirstTokenMs!).toBeLessThanOrEqual(record.endToEndMs);
    }
    expect(report.totalOutputTokens).toBe(96);
    expect(report.interTokenLatencyMs!.count).toBe(84);
    expect(report.timePerOutputTokenMs!.count).toBe(12);
    expect(report.endToEndLatencyMs!.count).toBe(12);
    expect(report.requestThroughput).toBeCloseTo(12 / (report.durationMs / 1000), 10);
    expect(report.outputTokenThroughput).toBeCloseTo(96 / (report.durationMs / 1000), 10);
    for (const stats of [report.timeToFirstTokenMs!, report.endToEndLatencyMs!, report.interTokenLatencyMs!]) {
      expect(stats.min).toBeLessThanOrEqual(stats.median);
      expect(stats.median).toBeLessThanOrEqual(stats.p95);
      expect(stats.p95).toBeLessThanOrEqual(stats.p99);
      expect(stats.p99).toBeLessThanOrEqual(stats.max);
    }
  });

  it('with a rate: seeded Poisson arrivals, each request sent no earlier than it was due', async () => {
    const { server } = await standIn(1);
    const report = await runLoad({
      backend: client(server.url),
      requests: 6,
      concurrency: 6,
      rate: 100,
      seed: 3,
      request,
      requestTimeoutMs: 30_000,
    });
    expectCountsAddUp(report, 6);
    expect(report).toMatchObject({ completed: 6, rate: 100, arrivals: 'poisson', seed: 3 });
    const scheduled = report.records.map((record) => record.scheduledMs);
    for (let index = 1; index < scheduled.length; index += 1)
      expect(scheduled[index]!).toBeGreaterThan(scheduled[index - 1]!);
    for (const record of report.records) expect(record.startedMs).toBeGreaterThanOrEqual(record.scheduledMs);
  });

  it('a server killed mid-run: the run finishes, every request is completed or failed with a reason', async () => {
    const { server } = await standIn(20);
    const backend = client(server.url);
    let killed = false;
    const report = await runLoad({
      backend,
      requests: 10,
      concurrency: 2,
      request,
      requestTimeoutMs: 30_000,
      onRequest: (_record, done) => {
        if (done === 3 && !killed) {
          killed = true;
          void server.close();
        }
      },
    });
    expectCountsAddUp(report, 10);
    expect(report.completed).toBeGreaterThanOrEqual(3);
    expect(report.failed).toBeGreaterThanOrEqual(1);
    for (const record of report.records.filter((entry) => !entry.ok)) {
      expect(record.reason).toEqual(expect.any(String));
      expect(record.reason!.length).toBeGreaterThan(10);
    }
    // The requests sent after the kill could not connect: the backend's own unreachable error, by code.
    expect(report.failures.some((failure) => failure.code === 'BACKEND_UNREACHABLE')).toBe(true);
  });

  it('a stream that breaks after 3 chunks: each request failed with the reason, its TTFT kept, no figures from it', async () => {
    const { server } = await standIn(1, { dieMidStreamAfterChunks: 3 });
    const report = await runLoad({
      backend: client(server.url),
      requests: 4,
      concurrency: 2,
      request,
      requestTimeoutMs: 30_000,
    });
    expectCountsAddUp(report, 4);
    expect(report.failed).toBe(4);
    for (const record of report.records) {
      expect(record.ok).toBe(false);
      expect(record.code).toBeDefined();
      expect(record.timeToFirstTokenMs).toBeDefined(); // 3 chunks arrived before the break
      expect(record.reason!.length).toBeGreaterThan(10);
    }
    expect(report.timeToFirstTokenMs).toBeUndefined(); // statistics are over completed requests only
    expect(report.totalOutputTokens).toBe(0);
  });

  it('a server that never answers: each request is cut at the timeout and counted failed (TIMEOUT)', async () => {
    const hung: Server = createServer((_request, response: ServerResponse) => {
      void response; // accepts, reads, never answers
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          hung.closeAllConnections();
          hung.close(resolve);
        }),
    );
    const url = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    const report = await runLoad({
      backend: client(url),
      requests: 3,
      concurrency: 2,
      request,
      requestTimeoutMs: 300,
    });
    expectCountsAddUp(report, 3);
    expect(report.failed).toBe(3);
    expect(report.failures).toEqual([
      expect.objectContaining({ code: 'TIMEOUT', count: 3, reason: expect.stringContaining('0.3 s') }),
    ]);
    expect(report.endToEndLatencyMs).toBeUndefined();
  });

  it('a backend that ignores its abort signal is still cut (the runner stops waiting)', async () => {
    const deaf: CoderBackend = {
      ...fixedLatencyEngine(1),
      // eslint-disable-next-line require-yield
      async *stream(): AsyncGenerator<StreamPart> {
        await new Promise(() => undefined);
      },
    };
    const report = await runLoad({ backend: deaf, requests: 2, concurrency: 2, request, requestTimeoutMs: 200 });
    expect(report).toMatchObject({ completed: 0, failed: 2 });
    expect(report.failures[0]).toMatchObject({ code: 'TIMEOUT', count: 2 });
  });

  it('the caller aborting rejects with ABORTED after cutting the requests in flight', async () => {
    const { server } = await standIn(50);
    const controller = new AbortController();
    const running = runLoad({
      backend: client(server.url),
      requests: 20,
      concurrency: 2,
      request,
      requestTimeoutMs: 30_000,
      signal: controller.signal,
      onRequest: (_record, done) => {
        if (done === 1) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.requests.filter((entry) => entry.path === '/v1/chat/completions').length).toBeLessThan(20);
  });

  it('refuses invalid options with INVALID_REQUEST', async () => {
    const backend = fixedLatencyEngine(1);
    const base = { backend, request, requestTimeoutMs: 1000 };
    await expect(runLoad({ ...base, requests: 0, concurrency: 1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(runLoad({ ...base, requests: 1, concurrency: 1.5 })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await expect(runLoad({ ...base, requests: 1, concurrency: 1, rate: 0 })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });
});

describe('runLoad (llama_cpp backend on the generated GGUF, in process)', () => {
  it('counts add up and every completed request has TTFT, ITL and TPOT from the real stream', async () => {
    const backend = createLlamaCppBackend({
      model: 'tiny',
      modelPath: fixturePaths().tinyLlama,
      threads: 1,
      gpu: false,
      contextSize: 512,
    });
    cleanups.push(() => backend.close());
    const report = await runLoad({
      backend,
      requests: 4,
      concurrency: 2,
      request: () => ({ messages: MESSAGES, maxTokens: 8, temperature: 0, seed: 42 }),
      requestTimeoutMs: 60_000,
    });
    expectCountsAddUp(report, 4);
    expect(report.failed).toBe(0);
    for (const record of report.records) {
      expect(record.outputTokensSource).toBe('usage');
      expect(record.outputTokens).toBeGreaterThan(0);
      expect(record.outputTokens).toBeLessThanOrEqual(8);
      expect(record.timeToFirstTokenMs!).toBeLessThanOrEqual(record.endToEndMs);
    }
    expect(report.totalOutputTokens).toBe(report.records.reduce((sum, record) => sum + record.outputTokens!, 0));
    expect(report.endToEndLatencyMs!.count).toBe(4);
    const multiToken = report.records.filter((record) => record.outputTokens! > 1).length;
    expect(report.timePerOutputTokenMs?.count ?? 0).toBe(multiToken);
    expect(report.timeToFirstTokenMs!.count).toBe(4);
  }, 120_000);
});

describe('runBench in load mode (protocol-faithful OpenAI-compatible stand-in, fixed-latency replay engine)', () => {
  it('measures every combination under the same load: warm-up apart, counts, figures, settings', async () => {
    const { server } = await standIn(2);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const progress: string[] = [];
    const report = await runBench({
      backends: ['vllm', 'exllamav2'],
      models: ['replay'],
      createBackend: async (backend, model) =>
        createOpenAICompatibleBackend({
          id: backend,
          model,
          baseUrl: backend === 'vllm' ? server.url : dead,
          serverName: 'stand-in',
        }),
      warmup: 2,
      timeoutMs: 30_000,
      loadTest: { concurrency: 3, requests: 9 },
      onProgress: (event) => {
        if (event.phase === 'run') progress.push(`${event.iteration}/${event.iterations}`);
      },
    });
    const [served, down] = report.results as [BenchResult, BenchResult];
    expect(served.status).toBe('ok');
    expect(served.loadTest).toMatchObject({ requests: 9, completed: 9, failed: 0, concurrency: 3, arrivals: 'burst' });
    expect(served.loadTest!.records).toHaveLength(9);
    expect(served.load?.firstRequestMs).toBeGreaterThan(0); // the first warm-up, kept apart
    expect(served.latencyMs).toBeUndefined(); // the sequential figure is not measured in load mode
    expect(served.samples).toEqual([]);
    // 2 warm-ups (generate) + 9 measured (stream), nothing else.
    expect(server.requests.filter((entry) => entry.path === '/v1/chat/completions')).toHaveLength(11);
    expect(progress.slice(0, 1)).toEqual(['0/9']);
    expect(progress.at(-1)).toBe('9/9');
    expect(down).toMatchObject({ status: 'unavailable', phase: 'probe' });
    expect(down.loadTest).toBeUndefined();
    expect(report.settings.loadTest).toEqual({
      concurrency: 3,
      requests: 9,
      rate: null,
      arrivals: 'burst',
      seed: 0,
      requestTimeoutMs: 30_000,
    });
    expect(report.harness.name).toBe('runLoad');
  });

  it('a combination whose every request failed is an error row that still carries the counts and reasons', async () => {
    const { server } = await standIn(1, { dieMidStreamAfterChunks: 2 });
    const report = await runBench({
      backends: ['vllm'],
      models: ['replay'],
      createBackend: async (backend, model) =>
        createOpenAICompatibleBackend({ id: backend, model, baseUrl: server.url, serverName: 'stand-in' }),
      warmup: 1, // generate() is not streamed, so the warm-up passes
      timeoutMs: 30_000,
      loadTest: { concurrency: 2, requests: 4 },
    });
    const [result] = report.results as [BenchResult];
    expect(result).toMatchObject({ status: 'error', loadTest: { requests: 4, completed: 0, failed: 4 } });
    expect(result.reason).toMatch(/^all 4 requests failed: /);
  });

  it('a request that hangs (a backend ignoring its signal) is cut at timeoutMs and counted failed; the bench goes on', async () => {
    const deaf = (): CoderBackend => ({
      ...fixedLatencyEngine(1),
      // eslint-disable-next-line require-yield
      async *stream(): AsyncGenerator<StreamPart> {
        await new Promise(() => undefined);
      },
    });
    const report = await runBench({
      backends: ['hung', 'fine'],
      models: ['m'],
      createBackend: async (backend) => (backend === 'hung' ? deaf() : fixedLatencyEngine(1)),
      warmup: 1, // generate() answers, so the warm-up passes and the hang is in the measured requests
      timeoutMs: 300,
      loadTest: { concurrency: 2, requests: 3 },
    });
    const [hung, fine] = report.results as [BenchResult, BenchResult];
    expect(hung).toMatchObject({
      status: 'error',
      code: 'TIMEOUT',
      loadTest: { requests: 3, completed: 0, failed: 3 },
    });
    expect(hung.loadTest!.failures).toEqual([expect.objectContaining({ code: 'TIMEOUT', count: 3 })]);
    expect(fine).toMatchObject({ status: 'ok', loadTest: { completed: 3, failed: 0 } });
    expect(report.settings.loadTest?.requestTimeoutMs).toBe(300);
  });

  it('refuses invalid load settings with INVALID_REQUEST', async () => {
    const base = { backends: ['vllm'], models: ['m'], createBackend: async () => client('http://127.0.0.1:9') };
    for (const loadTest of [
      { concurrency: 0, requests: 1 },
      { concurrency: 1, requests: 0 },
      { concurrency: 1, requests: 1, rate: -1 },
      { concurrency: 1, requests: 1, seed: 0.5 },
    ]) {
      await expect(runBench({ ...base, loadTest })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    }
    const task = { name: 'plan', run: async () => ({ results: [], valid: true, right: true }) };
    await expect(runBench({ ...base, task, loadTest: { concurrency: 1, requests: 1 } })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });
});

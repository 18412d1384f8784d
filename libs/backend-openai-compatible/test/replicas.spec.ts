/**
 * Several base URLs (replicas) through the replica router, over real HTTP on 127.0.0.1: protocol-faithful
 * local OpenAI-compatible servers (vLLM-shaped stand-ins, NOT vLLM) running a real GGUF for the contract
 * suite, or the instant fixed-answer engine (with a fixed per-part latency where a request must stay in
 * flight) for routing and failure tests; a raw TCP server that never answers stands in for a hung replica.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type GenerateRequest, type StreamPart } from '@nerion/backend-core';
import { describeCoderBackendContract } from '@nerion/backend-core/testing';
import {
  INSTANT_ENGINE_PARTS,
  closedPort,
  fixturePaths,
  freePort,
  instantEngine,
  rejection,
  runThroughReplicaKill,
  startHungServer,
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';
import { createOpenAICompatibleBackend, type OpenAICompatibleBackend } from '../src/index.js';

// These tests check routing and what probe() reports, not its default time bound: a bound that a busy CI
// machine (the closing-stream specs run beside them) cannot miss.
const PROBE_BOUND_MS = 20_000;

const SERVED = 'nerion-tiny-served';
const ANSWER = INSTANT_ENGINE_PARTS.join('');
const REQUEST: GenerateRequest = { messages: [{ role: 'user', content: 'add' }], maxTokens: 8, temperature: 0 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function standIn(options: { latencyMs?: number; port?: number } = {}): Promise<OpenAICompatibleServer> {
  const server = await startOpenAICompatibleServer({
    models: { [SERVED]: fixturePaths().tinyLlama },
    createBackend: async () => instantEngine({ latencyMs: options.latencyMs ?? 0 }),
    ...(options.port ? { port: options.port } : {}),
  });
  cleanups.push(() => server.close());
  return server;
}

function replicated(urls: readonly string[], extra: { backoffMs?: number } = {}): OpenAICompatibleBackend {
  const backend = createOpenAICompatibleBackend({
    id: 'vllm',
    model: SERVED,
    baseUrl: urls,
    serverName: 'vLLM',
    probeTimeoutMs: 1000,
    replicaBackoff: { initialMs: extra.backoffMs ?? 60_000, maxMs: extra.backoffMs ?? 60_000 },
  });
  cleanups.push(() => backend.close());
  return backend;
}

const completions = (server: OpenAICompatibleServer): number =>
  server.requests.filter((request) => request.path === '/v1/chat/completions').length;

async function streamText(parts: AsyncIterable<StreamPart>): Promise<string> {
  let text = '';
  for await (const part of parts) if (part.type === 'text-delta') text += part.text;
  return text;
}

describe('OpenAI-compatible replicas: contract', () => {
  let servers: OpenAICompatibleServer[] = [];
  let deadUrls: string[] = [];
  beforeAll(async () => {
    servers = await Promise.all(
      [0, 1].map(() => startOpenAICompatibleServer({ models: { [SERVED]: fixturePaths().tinyLlama } })),
    );
    deadUrls = [`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`];
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  describeCoderBackendContract({
    name: 'two replicas of the protocol-faithful local OpenAI-compatible server (stand-ins, real GGUF via node-llama-cpp)',
    createBackend: async () =>
      createOpenAICompatibleBackend({
        id: 'vllm',
        model: SERVED,
        baseUrl: servers.map((server) => server.url),
        serverName: 'vLLM',
      }),
    createUnavailableBackend: async () =>
      createOpenAICompatibleBackend({ id: 'vllm', model: SERVED, baseUrl: deadUrls, serverName: 'vLLM' }),
    createBackendWithMissingModel: async () =>
      createOpenAICompatibleBackend({
        id: 'vllm',
        model: 'not-served',
        baseUrl: servers.map((server) => server.url),
        serverName: 'vLLM',
      }),
  });
});

describe('OpenAI-compatible replicas: routing and failover (stand-ins with the instant engine, NOT vLLM)', () => {
  it('spreads sequential requests evenly and sends each request to the replica with the fewest in flight', async () => {
    const slow = await standIn({ latencyMs: 150 });
    const fastA = await standIn();
    const fastB = await standIn();
    const backend = replicated([slow.url, fastA.url, fastB.url]);

    // Nothing in flight: ties are taken in turn, so 6 sequential requests land 2 per replica.
    for (let index = 0; index < 6; index += 1) expect((await backend.generate(REQUEST)).text).toBe(ANSWER);
    expect([completions(slow), completions(fastA), completions(fastB)]).toEqual([2, 2, 2]);

    // One long request holds the slow replica (next in turn); meanwhile every request goes elsewhere.
    const long = backend.generate(REQUEST);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(backend.replicaStatuses!().find((status) => status.url === slow.url)?.inFlight).toBe(1);
    for (let index = 0; index < 6; index += 1) expect((await backend.generate(REQUEST)).text).toBe(ANSWER);
    expect((await long).text).toBe(ANSWER);
    expect(completions(slow)).toBe(3);
    expect(completions(fastA) + completions(fastB)).toBe(10);
  });

  it('moves a request that could not connect to another replica, takes the dead one out, and probe() reports each replica', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const live = await standIn();
    const backend = replicated([dead, live.url]);

    expect((await backend.generate(REQUEST)).text).toBe(ANSWER); // tried the dead one first (in turn), then moved
    expect(await streamText(backend.stream(REQUEST))).toBe(ANSWER);
    expect(completions(live)).toBe(2);

    const probe = await backend.probe({ timeoutMs: PROBE_BOUND_MS });
    expect(probe.available).toBe(true);
    expect(probe.reason).toMatch(/1 of 2 vLLM replicas can serve/);
    expect(probe.replicas).toEqual([
      expect.objectContaining({ url: dead, available: false, inFlight: 0, reason: expect.stringContaining(dead) }),
      expect.objectContaining({ url: live.url, available: true, inFlight: 0 }),
    ]);
  });

  it('fails with BACKEND_UNREACHABLE naming every replica when none can be reached', async () => {
    const urls = [`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`];
    const backend = replicated(urls);
    const error = await rejection(backend.generate(REQUEST));
    expect(error.code).toBe('BACKEND_UNREACHABLE');
    expect(error.message).toContain(urls[0]);
    expect(error.message).toContain(urls[1]);
    expect(error.data.tried).toEqual(urls);
    const probe = await backend.probe({ timeoutMs: PROBE_BOUND_MS });
    expect(probe.available).toBe(false);
    expect(probe.replicas?.map((replica) => replica.available)).toEqual([false, false]);
  });

  it('never restarts a stream that broke after its first bytes: the caller gets BACKEND_ERROR and the other replica gets nothing', async () => {
    const dying = await startOpenAICompatibleServer({
      models: { [SERVED]: fixturePaths().tinyLlama },
      createBackend: async () => instantEngine({ latencyMs: 5 }),
      dieMidStreamAfterChunks: 3,
    });
    cleanups.push(() => dying.close());
    const other = await standIn();
    const backend = replicated([dying.url, other.url]);

    const received: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of backend.stream(REQUEST)) if (part.type === 'text-delta') received.push(part.text);
      })(),
    );
    expect(error.code).toBe('BACKEND_ERROR');
    // What arrived, once and in order (the first parts), and never a restart from the other replica.
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThanOrEqual(3);
    expect(received).toEqual(INSTANT_ENGINE_PARTS.slice(0, received.length));
    expect(completions(other)).toBe(0);
    // The broken replica is out: the next request goes to the other one.
    expect((await backend.generate(REQUEST)).text).toBe(ANSWER);
    expect(completions(other)).toBe(1);
    expect(backend.replicaStatuses!()[0]).toMatchObject({ available: false, failures: 1 });
  });

  it('cuts a hung replica with the request timeout (TIMEOUT, clear message) and routes around it afterwards', async () => {
    const hung = await startHungServer();
    cleanups.push(() => hung.close());
    const live = await standIn();
    const backend = replicated([hung.url, live.url]);

    const error = await rejection(backend.generate({ ...REQUEST, timeoutMs: 300 }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/did not finish within 300 ms/);
    expect(error.message).toContain(`replica at ${hung.url} had not answered`);
    expect(backend.replicaStatuses!()[0]).toMatchObject({ url: hung.url, available: false });

    for (let index = 0; index < 5; index += 1)
      expect((await backend.generate({ ...REQUEST, timeoutMs: 5000 })).text).toBe(ANSWER);
    expect(completions(live)).toBe(5);
    expect(hung.requests()).toEqual(['POST /v1/chat/completions HTTP/1.1']);
  });

  it('kill one replica in the middle of a run: every request completes elsewhere or fails with a clear error, and the counts add up', async () => {
    const servers = [await standIn({ latencyMs: 4 }), await standIn({ latencyMs: 4 }), await standIn({ latencyMs: 4 })];
    const victim = servers[1]!;
    const backend = replicated(servers.map((server) => server.url));
    let victimRequestsAtKill = 0;
    const run = await runThroughReplicaKill({
      total: 90,
      concurrency: 6,
      killAt: 30,
      kill: () => {
        victimRequestsAtKill = completions(victim);
        return victim.close(); // connections in flight are destroyed; the port then refuses
      },
      // generate and stream in turn
      request: async (index) =>
        index % 2 === 0 ? (await backend.generate(REQUEST)).text : await streamText(backend.stream(REQUEST)),
      answer: ANSWER,
      victimUrl: victim.url,
      received: () => servers.reduce((sum, server) => sum + completions(server), 0),
    });
    expect(run.problems).toEqual([]);
    expect(run.completed).toBeGreaterThan(0);
    expect(victimRequestsAtKill).toBeGreaterThan(0);
    expect((await backend.probe({ timeoutMs: PROBE_BOUND_MS })).replicas?.map((replica) => replica.available)).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('probes a replica back in once it answers again (bounded backoff)', async () => {
    const port = await freePort();
    const returning = `http://127.0.0.1:${port}`;
    const live = await standIn();
    const backend = replicated([returning, live.url], { backoffMs: 50 });
    expect((await backend.generate(REQUEST)).text).toBe(ANSWER);
    expect(backend.replicaStatuses!()[0]).toMatchObject({ available: false, failures: 1 });

    const back = await standIn({ port });
    const deadline = Date.now() + 10_000;
    while (completions(back) === 0 && Date.now() < deadline) {
      await backend.generate(REQUEST);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(completions(back)).toBeGreaterThan(0);
    expect(backend.replicaStatuses!()[0]).toMatchObject({ url: returning, available: true });
  });

  it('rejects the same server listed twice (CONFIG_INVALID)', async () => {
    const live = await standIn();
    expect(() =>
      createOpenAICompatibleBackend({
        id: 'vllm',
        model: SERVED,
        baseUrl: [live.url, `${live.url}/v1/`],
        serverName: 'vLLM',
      }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

/**
 * Several Ollama servers (replicas) behind one backend, over real HTTP on 127.0.0.1: protocol-faithful local
 * Ollama stand-ins (NOT Ollama) whose engine is the instant fixed-answer engine, so routing is what is tested.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { type GenerateRequest } from '@nerion/backend-core';
import {
  INSTANT_ENGINE_PARTS,
  closedPort,
  fixturePaths,
  instantEngine,
  runThroughReplicaKill,
  startLocalOllamaServer,
  type LocalOllamaServer,
} from '@nerion/test-support';
import { createOllamaBackend, type OllamaBackend } from './ollama-backend.js';

// These tests check routing and what probe() reports, not its default time bound: a bound that a busy CI
// machine (the closing-stream specs run beside them) cannot miss.
const PROBE_BOUND_MS = 20_000;

const MODEL = 'nerion-tiny:latest';
const ANSWER = INSTANT_ENGINE_PARTS.join('');
const REQUEST: GenerateRequest = { messages: [{ role: 'user', content: 'add' }], maxTokens: 8 };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ollama(options: { installed?: boolean; latencyMs?: number } = {}): Promise<LocalOllamaServer> {
  const server = await startLocalOllamaServer({
    models: options.installed === false ? {} : { [MODEL]: fixturePaths().tinyLlama },
    pullable: { [MODEL]: fixturePaths().tinyLlama },
    engineFactory: async () => instantEngine({ latencyMs: options.latencyMs ?? 0 }),
    pullStepDelayMs: 0,
  });
  cleanups.push(() => server.close());
  return server;
}

function replicated(urls: readonly string[]): OllamaBackend {
  const backend = createOllamaBackend({
    model: MODEL,
    baseUrl: urls,
    probeTimeoutMs: 1000,
    replicaBackoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  cleanups.push(() => backend.close());
  return backend;
}

const chats = (server: LocalOllamaServer): number =>
  server.requests.filter((request) => request.path === '/api/chat').length;

describe('Ollama replicas (protocol-faithful local Ollama stand-ins with the instant engine, NOT Ollama)', () => {
  it('spreads requests over the replicas and reports each one in probe()', async () => {
    const servers = [await ollama(), await ollama()];
    const backend = replicated(servers.map((server) => server.url));
    for (let index = 0; index < 4; index += 1) expect((await backend.generate(REQUEST)).text).toBe(ANSWER);
    expect(servers.map(chats)).toEqual([2, 2]);
    const probe = await backend.probe({ timeoutMs: PROBE_BOUND_MS });
    expect(probe).toMatchObject({ available: true, modelAvailable: true });
    expect(probe.reason).toBeUndefined();
    expect(probe.replicas).toEqual(
      servers.map((server) => ({ url: server.url, available: true, inFlight: 0, failures: 0 })),
    );
    expect(backend.baseUrls).toEqual(servers.map((server) => server.url));
  });

  it('a replica without the model: the request moves to one that has it, the replica is out, and probe() says why', async () => {
    const empty = await ollama({ installed: false });
    const full = await ollama();
    const backend = replicated([empty.url, full.url]);
    expect((await backend.generate(REQUEST)).text).toBe(ANSWER); // refused by the empty one, answered by the other
    expect([chats(empty), chats(full)]).toEqual([1, 1]);
    const probe = await backend.probe({ timeoutMs: PROBE_BOUND_MS });
    expect(probe.available).toBe(true);
    expect(probe.reason).toContain(`1 of 2 Ollama replicas can serve`);
    expect(probe.replicas?.[0]).toMatchObject({ url: empty.url, available: false });
    expect(probe.replicas?.[0]?.reason).toContain('nerion models ensure');
    for (let index = 0; index < 3; index += 1) expect((await backend.generate(REQUEST)).text).toBe(ANSWER);
    expect([chats(empty), chats(full)]).toEqual([1, 4]);
  });

  it('pull() installs the model on every replica', async () => {
    const servers = [await ollama({ installed: false }), await ollama({ installed: false })];
    const backend = replicated(servers.map((server) => server.url));
    expect(await backend.pull()).toEqual({ model: MODEL, status: 'success' });
    for (const server of servers) expect(server.installedModels()).toContain(MODEL);
  });

  it('kill one replica in the middle of a run: every request completes on the other or fails with a clear error, and the counts add up', async () => {
    const servers = [await ollama({ latencyMs: 3 }), await ollama({ latencyMs: 3 })];
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const backend = replicated([...servers.map((server) => server.url), dead]);
    const run = await runThroughReplicaKill({
      total: 60,
      concurrency: 4,
      killAt: 20,
      kill: () => servers[0]!.close(),
      request: async () => (await backend.generate(REQUEST)).text,
      answer: ANSWER,
      victimUrl: servers[0]!.url,
      received: () => chats(servers[0]!) + chats(servers[1]!),
    });
    expect(run.problems).toEqual([]);
    expect(run.completed).toBeGreaterThan(0);
    expect((await backend.probe({ timeoutMs: PROBE_BOUND_MS })).replicas?.map((replica) => replica.available)).toEqual([
      false,
      true,
      false,
    ]);
  });
});

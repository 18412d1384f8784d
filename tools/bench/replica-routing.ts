// What the replica router adds per request: a backend over several base URLs (createReplicatedBackend:
// fewest in flight, failover bookkeeping, one outer RequestLifecycle) vs a backend over one base URL,
// against OpenAI-compatible stand-ins (vLLM-shaped; NOT vLLM) running the instant fixed-answer engine, so
// the figure is routing overhead alone. Paired and alternating (tools/bench/paired-latency.ts): the
// median of per-pair differences, so server time and machine drift cancel. Also the same for Ollama
// stand-ins (NOT Ollama). Target: ≤ 0.2 ms median added per request.
//
//   npx tsx tools/bench/replica-routing.ts [pairs=400]
import { createOllamaBackend } from '@nerion/backend-ollama';
import { createOpenAICompatibleBackend } from '@nerion/backend-openai-compatible';
import type { CoderBackend } from '@nerion/backend-core';
import { fixturePaths, instantEngine, startLocalOllamaServer, startOpenAICompatibleServer } from '@nerion/test-support';
import { BENCH_MESSAGES, measurePairedLatency, printPairedLatency } from './paired-latency.js';

const pairs = Number(process.argv[2] ?? 400);
const warmup = 30;
const MODEL = 'nerion-tiny';
const TARGET_MS = 0.2;
const request = { messages: BENCH_MESSAGES, maxTokens: 8, temperature: 0 };

async function run(backend: CoderBackend, streaming: boolean): Promise<string> {
  if (!streaming) return (await backend.generate(request)).text;
  let text = '';
  for await (const part of backend.stream(request)) if (part.type === 'text-delta') text += part.text;
  return text;
}

async function compare(
  label: string,
  direct: CoderBackend,
  routed: CoderBackend,
  replicas: number,
  streaming: boolean,
): Promise<boolean> {
  const result = await measurePairedLatency({
    direct: () => run(direct, streaming),
    viaBackend: () => run(routed, streaming),
    pairs,
    warmup,
  });
  console.log(
    `\n${label}, ${streaming ? 'streaming' : 'non-streaming'} — ${pairs} request pairs, ${replicas} replicas`,
  );
  return printPairedLatency({ direct: 'one base URL', backend: `router over ${replicas}` }, result, TARGET_MS);
}

async function openAICompatible(replicas: number): Promise<boolean[]> {
  const servers = await Promise.all(
    Array.from({ length: replicas }, () =>
      startOpenAICompatibleServer({
        models: { [MODEL]: fixturePaths().tinyLlama },
        createBackend: async () => instantEngine(),
      }),
    ),
  );
  const settings = { id: 'vllm' as const, model: MODEL, serverName: 'vLLM' };
  const direct = createOpenAICompatibleBackend({ ...settings, baseUrl: servers[0]!.url });
  const routed = createOpenAICompatibleBackend({ ...settings, baseUrl: servers.map((server) => server.url) });
  try {
    const label = 'OpenAI-compatible stand-ins with the instant engine (overhead only)';
    return [
      await compare(label, direct, routed, replicas, false),
      await compare(label, direct, routed, replicas, true),
    ];
  } finally {
    await Promise.all([direct.close(), routed.close()]);
    await Promise.all(servers.map((server) => server.close()));
  }
}

async function ollama(replicas: number): Promise<boolean[]> {
  const servers = await Promise.all(
    Array.from({ length: replicas }, () =>
      startLocalOllamaServer({
        models: { [MODEL]: fixturePaths().tinyLlama },
        engineFactory: async () => instantEngine(),
      }),
    ),
  );
  const direct = createOllamaBackend({ model: MODEL, baseUrl: servers[0]!.url });
  const routed = createOllamaBackend({ model: MODEL, baseUrl: servers.map((server) => server.url) });
  try {
    const label = 'Ollama stand-ins with the instant engine (overhead only)';
    return [await compare(label, direct, routed, replicas, true)];
  } finally {
    await Promise.all([direct.close(), routed.close()]);
    await Promise.all(servers.map((server) => server.close()));
  }
}

const outcomes = [...(await openAICompatible(2)), ...(await openAICompatible(4)), ...(await ollama(2))];
console.log(
  `\nreplica router added latency: target ≤ ${TARGET_MS} ms median ${outcomes.every(Boolean) ? 'met' : 'NOT met'} (${outcomes.filter(Boolean).length}/${outcomes.length} runs)`,
);

// Scaling of the load bench over replicas: N OpenAI-compatible stand-ins (protocol-faithful, NOT vLLM), each
// serving ONE request at a time (maxConcurrentRequests 1, as vLLM --max-num-seqs 1) with a fixed service time
// (a replay engine: 8 parts × partMs), measured by runBench's load mode with --concurrency N in the same run:
// one replica vs N replicas behind the vllm backend's replica list (least requests in flight). The figure is
// request throughput(N replicas) ÷ request throughput(1 replica); target ≥ 0.9 × N (N = 4: ≥ 3.6).
// Rounds alternate the order of the two combinations; the figure is the median of the per-round ratios.
//
//   npx tsx tools/bench/load-scaling.ts [replicas=4] [requests=40] [partMs=20] [rounds=3]
import { cpus, loadavg } from 'node:os';
import type { CoderBackend } from '@nerion/backend-core';
import { createOpenAICompatibleBackend } from '@nerion/backend-openai-compatible';
import { runBench, type BenchResult } from '@nerion/bench';
import {
  INSTANT_ENGINE_PARTS,
  instantEngine,
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
} from '@nerion/test-support';

const replicas = Number(process.argv[2] ?? 4);
const requests = Number(process.argv[3] ?? 40);
const partMs = Number(process.argv[4] ?? 20);
const rounds = Number(process.argv[5] ?? 3);
const MODEL = 'replay';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The vllm backend over these base URLs: one endpoint, or the backend's own replica list (least requests in flight). */
function replicated(urls: readonly string[]): { backend: CoderBackend; router: string } {
  const backend = createOpenAICompatibleBackend({
    id: 'vllm',
    model: MODEL,
    baseUrl: urls.length === 1 ? urls[0]! : urls,
    serverName: 'stand-in',
  });
  return { backend, router: urls.length === 1 ? 'one endpoint' : "the vllm backend's replica list" };
}

const servers: OpenAICompatibleServer[] = [];
for (let index = 0; index < replicas; index += 1)
  servers.push(
    await startOpenAICompatibleServer({
      models: { [MODEL]: 'unused.gguf' },
      maxConcurrentRequests: 1,
      createBackend: async () => instantEngine({ latencyMs: partMs, model: 'fixed-latency-replay' }),
    }),
  );
const urls = servers.map((server) => server.url);
const ONE = '1 replica';
const MANY = `${replicas} replicas`;
let router = '';

console.log(
  `load scaling: ${replicas} stand-in replicas, 1 request at a time each, service ${INSTANT_ENGINE_PARTS.length} × ${partMs} ms; ` +
    `--concurrency ${replicas} --requests ${requests}; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)}`,
);
const ratios: number[] = [];
for (let round = 1; round <= rounds; round += 1) {
  const order = round % 2 ? [ONE, MANY] : [MANY, ONE];
  const report = await runBench({
    backends: order,
    models: [MODEL],
    createBackend: async (label) => {
      const made = replicated(label === ONE ? urls.slice(0, 1) : urls);
      if (label === MANY) router = made.router;
      return made.backend;
    },
    warmup: 1,
    timeoutMs: 60_000,
    loadTest: { concurrency: replicas, requests },
  });
  const byLabel = new Map(report.results.map((result: BenchResult) => [result.backend, result.loadTest!]));
  const one = byLabel.get(ONE)!;
  const many = byLabel.get(MANY)!;
  const ratio = many.requestThroughput / one.requestThroughput;
  ratios.push(ratio);
  console.log(
    `  round ${round}: ${ONE} ${one.requestThroughput.toFixed(2)} req/s (${one.completed}/${one.requests} ok), ` +
      `${MANY} ${many.requestThroughput.toFixed(2)} req/s (${many.completed}/${many.requests} ok): ratio ${ratio.toFixed(3)}`,
  );
}
for (const server of servers) await server.close();
const figure = median(ratios);
const target = 0.9 * replicas;
console.log(`  routing: ${router}`);
console.log(
  `throughput ${replicas} replicas ÷ 1 replica: ${figure.toFixed(3)} (median of ${rounds} rounds; ideal ${replicas}); ` +
    `target ≥ ${target.toFixed(1)}: ${figure >= target ? 'met' : 'NOT met'} (load average ${loadavg()[0]!.toFixed(2)})`,
);
process.exitCode = figure >= target ? 0 : 1;

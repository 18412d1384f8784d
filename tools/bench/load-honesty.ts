// Honesty of the load bench: the figures of runBench's load mode (what `nerion models bench --requests M
// --concurrency N` prints) ÷ the same requests timed directly — the `openai` client streaming the same
// /v1/chat/completions body from N workers against the same OpenAI-compatible stand-in (protocol-faithful,
// NOT vLLM), with its own timing and statistics code — in the same run. Rounds alternate which side goes
// first; each figure is the median of its per-round ratios. Target: every ratio of the throughputs and of the
// mean and median TTFT, TPOT, ITL and end-to-end latency within 0.95–1.05 (p99 is printed, not judged:
// a tail of 1–2 requests is noise at these counts).
//
// The engine is a replay (8 parts × partMs, fixed service time, labelled as such) by default, or the tiny
// GGUF through node-llama-cpp with `gguf` (one request at a time inside the stand-in).
//
//   npx tsx tools/bench/load-honesty.ts [replay|gguf] [concurrency=4] [requests=40] [rounds=5] [partMs=10]
import { loadavg } from 'node:os';
import OpenAI from 'openai';
import { createOpenAICompatibleBackend } from '@nerion/backend-openai-compatible';
import { runBench, type LoadReport } from '@nerion/bench';
import { fixturePaths, instantEngine, startOpenAICompatibleServer } from '@nerion/test-support';

const engine = process.argv[2] === 'gguf' ? 'gguf' : 'replay';
const concurrency = Number(process.argv[3] ?? 4);
const requests = Number(process.argv[4] ?? 40);
const rounds = Number(process.argv[5] ?? 5);
const partMs = Number(process.argv[6] ?? 10);
const MODEL = 'nerion-tiny';
const MAX_TOKENS = 16;
const messages = [{ role: 'user' as const, content: 'Write a TypeScript function that adds two numbers.' }];

/** Independent statistics (not @nerion/bench's): sort, linear interpolation, mean. */
function stats(values: readonly number[]): { mean: number; median: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    return sorted[low]! + (sorted[Math.ceil(position)]! - sorted[low]!) * (position - low);
  };
  return { mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length, median: at(0.5), p99: at(0.99) };
}

interface Figures {
  requestThroughput: number;
  outputThroughput: number;
  ttft: ReturnType<typeof stats>;
  tpot: ReturnType<typeof stats>;
  itl: ReturnType<typeof stats>;
  e2el: ReturnType<typeof stats>;
  completed: number;
}

const server = await startOpenAICompatibleServer({
  models: { [MODEL]: fixturePaths().tinyLlama },
  threads: 1,
  ...(engine === 'replay'
    ? { createBackend: async () => instantEngine({ latencyMs: partMs, model: 'fixed-latency-replay' }) }
    : {}),
});
const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'EMPTY', maxRetries: 0 });

/** N workers send `requests` streamed requests with the openai client, timed here. */
async function direct(): Promise<Figures> {
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2els: number[] = [];
  let outputTokens = 0;
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests) {
      next += 1;
      const sent = performance.now();
      let first: number | undefined;
      let last = 0;
      let tokens = 0;
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages,
        max_tokens: MAX_TOKENS,
        temperature: 0,
        seed: 42,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
        if (!chunk.choices[0]?.delta?.content) continue;
        const now = performance.now();
        if (first === undefined) first = now - sent;
        else itls.push(now - last);
        last = now;
      }
      const e2el = performance.now() - sent;
      ttfts.push(first!);
      e2els.push(e2el);
      if (tokens > 1) tpots.push((e2el - first!) / (tokens - 1));
      outputTokens += tokens;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    requestThroughput: e2els.length / seconds,
    outputThroughput: outputTokens / seconds,
    ttft: stats(ttfts),
    tpot: stats(tpots),
    itl: stats(itls),
    e2el: stats(e2els),
    completed: e2els.length,
  };
}

/** The same load through runBench's load mode (the CLI's path), warm-up 0 (the direct side has none). */
async function viaBench(): Promise<Figures> {
  const report = await runBench({
    backends: ['vllm'],
    models: [MODEL],
    messages,
    maxTokens: MAX_TOKENS,
    createBackend: async (id, model) =>
      createOpenAICompatibleBackend({ id, model, baseUrl: server.url, serverName: 'stand-in' }),
    warmup: 0,
    timeoutMs: 60_000,
    loadTest: { concurrency, requests },
  });
  const load: LoadReport = report.results[0]!.loadTest!;
  const pick = (distribution: { mean: number; median: number; p99: number } | undefined) => ({
    mean: distribution!.mean,
    median: distribution!.median,
    p99: distribution!.p99,
  });
  return {
    requestThroughput: load.requestThroughput,
    outputThroughput: load.outputTokenThroughput,
    ttft: pick(load.timeToFirstTokenMs),
    tpot: pick(load.timePerOutputTokenMs),
    itl: pick(load.interTokenLatencyMs),
    e2el: pick(load.endToEndLatencyMs),
    completed: load.completed,
  };
}

console.log(
  `load honesty: ${engine === 'replay' ? `replay engine, 8 parts × ${partMs} ms` : 'tiny GGUF via node-llama-cpp'}; ` +
    `concurrency ${concurrency}, ${requests} requests, ${rounds} rounds; load average ${loadavg()[0]!.toFixed(2)}`,
);
await direct(); // warm both paths (the stand-in loads its engine on the first request)
await viaBench();
const keys = ['requestThroughput', 'outputThroughput'] as const;
const statKeys = ['ttft', 'tpot', 'itl', 'e2el'] as const;
const ratios = new Map<string, number[]>();
const record = (name: string, value: number): void => {
  ratios.set(name, [...(ratios.get(name) ?? []), value]);
};
for (let round = 1; round <= rounds; round += 1) {
  const [a, b] = round % 2 ? [await direct(), await viaBench()] : [await viaBench(), await direct()].reverse();
  const [directFigures, benchFigures] = [a!, b!];
  if (directFigures.completed !== requests || benchFigures.completed !== requests)
    throw new Error(`a request failed (direct ${directFigures.completed}, bench ${benchFigures.completed})`);
  for (const key of keys) record(key, benchFigures[key] / directFigures[key]);
  for (const key of statKeys)
    for (const statistic of ['mean', 'median', 'p99'] as const)
      record(`${statistic} ${key}`, benchFigures[key][statistic] / directFigures[key][statistic]);
}
await server.close();
let met = true;
for (const [name, values] of ratios) {
  const sorted = [...values].sort((x, y) => x - y);
  const figure = sorted[Math.floor(sorted.length / 2)]!;
  const judged = !name.startsWith('p99');
  const ok = figure >= 0.95 && figure <= 1.05;
  if (judged && !ok) met = false;
  console.log(
    `  ${name.padEnd(20)} bench ÷ direct ${figure.toFixed(3)}  (rounds ${values.map((value) => value.toFixed(3)).join(' ')})${judged ? (ok ? '' : '  OUTSIDE 0.95–1.05') : '  (not judged)'}`,
  );
}
console.log(
  `load figures ÷ direct measurement: target 0.95–1.05 ${met ? 'met' : 'NOT met'} (load average ${loadavg()[0]!.toFixed(2)})`,
);
process.exitCode = met ? 0 : 1;

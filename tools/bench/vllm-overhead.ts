// The vllm backend's added latency per request: `backend.generate()` / `backend.stream()` vs the same
// /v1/chat/completions request made with the `openai` client directly, against the same vLLM stand-in
// (a protocol-faithful OpenAI-compatible server; real GGUF via node-llama-cpp, or an instant fixed-answer
// engine, labelled as such; NOT vLLM, which cannot be installed here), in the same run. Requests alternate
// and the figure is the median of the paired differences, so model time and machine drift cancel.
// Target: ≤ 2 ms median added per request.
//
//   npx tsx tools/bench/vllm-overhead.ts [pairs=150] [maxTokens=8]
import OpenAI from 'openai';
import { createVllmBackend } from '@nerion/backend-vllm';
import { fixturePaths, instantEngine, startOpenAICompatibleServer } from '@nerion/test-support';
import { BENCH_MESSAGES, measurePairedLatency, printPairedLatency } from './paired-latency.js';

const pairs = Number(process.argv[2] ?? 150);
const maxTokens = Number(process.argv[3] ?? 8);
const warmup = 10;
const MODEL = 'nerion-tiny';
const messages = BENCH_MESSAGES;

async function measure(label: string, instant: boolean, streaming: boolean): Promise<boolean> {
  const server = await startOpenAICompatibleServer({
    models: { [MODEL]: fixturePaths().tinyLlama },
    threads: 1,
    ...(instant ? { createBackend: async () => instantEngine() } : {}),
  });
  const backend = createVllmBackend({ model: MODEL, baseUrl: server.url });
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'EMPTY', maxRetries: 0 });
  const body = { model: MODEL, messages, max_tokens: maxTokens, temperature: 0 };

  const direct = async (): Promise<string> => {
    if (!streaming) return (await client.chat.completions.create(body)).choices[0]?.message.content ?? '';
    let text = '';
    for await (const chunk of await client.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    }))
      text += chunk.choices[0]?.delta?.content ?? '';
    return text;
  };
  const viaBackend = async (): Promise<string> => {
    if (!streaming) return (await backend.generate({ messages, maxTokens, temperature: 0 })).text;
    let text = '';
    for await (const part of backend.stream({ messages, maxTokens, temperature: 0 }))
      if (part.type === 'text-delta') text += part.text;
    return text;
  };

  try {
    const result = await measurePairedLatency({ direct, viaBackend, pairs, warmup });
    console.log(
      `\n${label}, ${streaming ? 'streaming' : 'non-streaming'} — ${pairs} request pairs, maxTokens ${maxTokens}`,
    );
    return printPairedLatency({ direct: 'openai client direct', backend: 'vllm backend' }, result, 2);
  } finally {
    await backend.close();
    await server.close();
  }
}

const outcomes = [
  await measure('vLLM stand-in generating with the tiny GGUF (node-llama-cpp, 1 thread)', false, false),
  await measure('vLLM stand-in generating with the tiny GGUF (node-llama-cpp, 1 thread)', false, true),
  await measure('vLLM stand-in with an instant fixed-answer engine (overhead only)', true, false),
  await measure('vLLM stand-in with an instant fixed-answer engine (overhead only)', true, true),
];
console.log(
  `\nvllm backend added latency: target ≤ 2 ms median ${outcomes.every(Boolean) ? 'met' : 'NOT met'} (${outcomes.filter(Boolean).length}/${outcomes.length} runs)`,
);

// The Ollama backend's added latency per request: `backend.generate()` vs the same /api/chat request made
// with the `ollama` client directly, against the same protocol-faithful local Ollama stand-in (real GGUF via
// node-llama-cpp; NOT Ollama, which cannot be installed here), in the same run. Requests alternate
// (direct, backend, direct, …) and the figure is the median of the paired differences, so model time and
// machine drift cancel. Target (issue #4): ≤ 2 ms median.
//
// Two servers, same code: one generates with the tiny GGUF (real requests, but model time on a shared 2-core
// machine makes the pairs noisy), one whose engine replays a fixed 8-part answer instantly (labelled as such),
// which isolates what the backend adds: option building, NDJSON parsing, validation, the result.
//
//   npx tsx tools/bench/ollama-overhead.ts [pairs=150] [maxTokens=8]
import { createOllamaBackend } from '@nerion/backend-ollama';
import { fixturePaths, instantEngine, startLocalOllamaServer } from '@nerion/test-support';
import { Ollama } from 'ollama';
import { BENCH_MESSAGES, measurePairedLatency, printPairedLatency } from './paired-latency.js';

const pairs = Number(process.argv[2] ?? 150);
const maxTokens = Number(process.argv[3] ?? 8);
const warmup = 10;
const MODEL = 'nerion-tiny';
const messages = BENCH_MESSAGES;

async function measure(label: string, instant: boolean): Promise<boolean> {
  const server = await startLocalOllamaServer({
    models: { [MODEL]: fixturePaths().tinyLlama },
    threads: 1,
    ...(instant ? { engineFactory: async () => instantEngine() } : {}),
  });
  const backend = createOllamaBackend({ model: MODEL, baseUrl: server.url });
  const client = new Ollama({ host: server.url });

  // The exact body the backend sends (same num_ctx, so neither side makes the stand-in reload the model).
  const direct = async (): Promise<string> => {
    const records = await client.chat({
      model: MODEL,
      messages,
      stream: true,
      keep_alive: '5m',
      options: { num_ctx: 2048, num_predict: maxTokens, temperature: 0 },
    });
    let text = '';
    for await (const record of records) text += record.message.content;
    return text;
  };
  const viaBackend = async (): Promise<string> =>
    (await backend.generate({ messages, maxTokens, temperature: 0 })).text;

  try {
    const result = await measurePairedLatency({ direct, viaBackend, pairs, warmup });
    console.log(`\n${label} — ${pairs} request pairs, maxTokens ${maxTokens}, ${server.url}`);
    return printPairedLatency({ direct: 'ollama client direct', backend: 'backend.generate()' }, result, 2);
  } finally {
    await backend.close();
    await server.close();
  }
}

const real = await measure('local Ollama stand-in generating with the tiny GGUF (node-llama-cpp, 1 thread)', false);
const instant = await measure('local Ollama stand-in with an instant fixed-answer engine (overhead only)', true);
console.log(
  `\nollama backend added latency: target ≤ 2 ms median ${real && instant ? 'met' : 'NOT met'} (GGUF run ${real ? 'met' : 'not met'}, instant run ${instant ? 'met' : 'not met'})`,
);

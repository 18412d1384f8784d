// Decode speed of @nerion/backend-llamacpp ÷ node-llama-cpp called directly, same model, same run (issue #3).
// Target: backend ÷ node-llama-cpp with its best thread count ≥ 0.95. Also printed: backend ÷ node-llama-cpp's
// own default threads, and the proof that a second generate does not load the model again.
//
//   npx tsc -b libs/backend-llamacpp/tsconfig.lib.json && node tools/bench/llamacpp-decode.mjs [runs] [tokens]
//
// The model is generated into a temp dir (not committed): llama arch, embedding 512, 8 blocks, feed-forward
// 1536, F32 — big enough that decoding, not call overhead, dominates.
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaCompletion } from 'node-llama-cpp';
import { writeTinyGguf } from '../fixtures/tiny-gguf.mjs';
import { createLlamaCppBackend, llamaCppRuntimeStats } from '../../libs/backend-llamacpp/dist/index.js';

const runs = Number(process.argv[2] ?? 5);
const tokens = Number(process.argv[3] ?? 128);
const prompt = 'function add(a, b) {';
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const directory = mkdtempSync(join(tmpdir(), 'nerion-bench-llamacpp-'));
try {
  const modelPath = join(directory, 'bench-llama.gguf');
  const written = await writeTinyGguf(modelPath, {
    embedding: 512,
    heads: 8,
    blocks: 8,
    feedForward: 1536,
    seed: 7,
    name: 'nerion-bench-llama',
  });
  console.log(
    `model: ${(written.bytes / 2 ** 20).toFixed(1)} MiB, ${runs} runs × ${tokens} tokens, greedy, prompt ${JSON.stringify(prompt)}, ${availableParallelism()} cores`,
  );

  // node-llama-cpp directly: one context per thread setting, LlamaCompletion like the backend uses.
  const llama = await getLlama({ gpu: false });
  const model = await llama.loadModel({ modelPath });
  async function directContext(threads) {
    const context = await model.createContext({ contextSize: 2048, ...(threads === undefined ? {} : { threads }) });
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    return {
      context,
      async run(maxTokens) {
        await sequence.clearHistory();
        const before = sequence.tokenMeter.usedOutputTokens;
        const started = performance.now();
        await completion.generateCompletion(prompt, { maxTokens, temperature: 0 });
        const generated = sequence.tokenMeter.usedOutputTokens - before;
        return generated / ((performance.now() - started) / 1000);
      },
    };
  }
  const direct = new Map();
  const threadOptions = [...new Set([1, 2, availableParallelism()])].filter(
    (count) => count <= Math.max(2, availableParallelism()),
  );
  for (const threads of threadOptions) direct.set(threads, await directContext(threads));

  // The prebuilt binaries, as node-llama-cpp's direct calls above use: two llama.cpp builds in one process would
  // share libraries by soname (nerion's OpenMP build is measured by llamacpp-vs-llamabench.mjs, in its own process).
  const backend = createLlamaCppBackend({
    model: 'bench',
    modelPath,
    gpu: false,
    contextSize: 2048,
    llamaBuild: 'prebuilt',
  });
  const loadsBefore = llamaCppRuntimeStats().modelLoads;
  const first = await backend.generate({ prompt, maxTokens: 4, temperature: 0 }); // loads the model (timed apart)
  const threadsChosen = (await backend.probe({ timeoutMs: 10_000 })).facts?.threads;

  const samples = { backend: [] };
  for (const threads of direct.keys()) samples[`direct threads=${threads}`] = [];
  for (const { run } of direct.values()) await run(8); // warm-up
  const variants = [
    ...[...direct].map(([threads, { run }]) => ({ label: `direct threads=${threads}`, run: () => run(tokens) })),
    {
      label: 'backend',
      run: async () => {
        const result = await backend.generate({ prompt, maxTokens: tokens, temperature: 0 });
        return result.usage.completionTokens / (result.timings.totalMs / 1000);
      },
    },
  ];
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200)); // lets llama.cpp's spinning workers sleep
  for (let index = 0; index < runs; index += 1) {
    // Interleaved and rotated, so machine noise and the previous variant's worker threads hit every variant alike.
    for (let offset = 0; offset < variants.length; offset += 1) {
      const variant = variants[(index + offset) % variants.length];
      await settle();
      samples[variant.label].push(await variant.run());
    }
  }

  // node-llama-cpp's defaults (no thread count): fewer tokens, it can be very slow on a small machine.
  const defaults = await directContext(undefined);
  const defaultThreads = defaults.context.currentThreads;
  const defaultRate = median([await defaults.run(Math.min(tokens, 4)), await defaults.run(Math.min(tokens, 4))]);

  // Median is the headline; best-of-runs is printed too because a shared machine's noise only ever slows a run down.
  const best = (values) => Math.max(...values);
  const backendRate = median(samples.backend);
  let bestDirect = { label: '', rate: 0, top: 0 };
  for (const [label, values] of Object.entries(samples)) {
    const rate = median(values);
    console.log(
      `${label.padEnd(20)} median ${rate.toFixed(1)} tokens/s, best ${best(values).toFixed(1)}${label === 'backend' ? ` (threads chosen: ${threadsChosen})` : ''}`,
    );
    if (label !== 'backend' && rate > bestDirect.rate) bestDirect = { label, rate, top: best(values) };
  }
  console.log(
    `${`direct defaults`.padEnd(20)} median ${defaultRate.toFixed(1)} tokens/s (node-llama-cpp chose ${defaultThreads} threads)`,
  );
  console.log(
    `ratio backend ÷ best direct (${bestDirect.label}): median ${(backendRate / bestDirect.rate).toFixed(3)}, best-of-runs ${(best(samples.backend) / bestDirect.top).toFixed(3)} (target ≥ 0.95)`,
  );
  console.log(`ratio backend ÷ node-llama-cpp defaults: ${(backendRate / defaultRate).toFixed(2)}`);

  // Loaded once: after the first call the file is deleted; later calls still run and nothing is loaded again.
  unlinkSync(modelPath);
  const again = await backend.generate({ prompt, maxTokens: 4, temperature: 0 });
  const loads = llamaCppRuntimeStats().modelLoads - loadsBefore;
  console.log(
    `model loads by the backend over ${runs + 2} generate calls: ${loads} (first call loadMs ${first.timings.loadMs?.toFixed(0)} ms; the last ran after the GGUF was deleted: ${again.finishReason}, loadMs ${again.timings.loadMs ?? 'none'})`,
  );
  try {
    statSync(modelPath);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }

  await backend.close();
  await defaults.context.dispose();
  for (const { context } of direct.values()) await context.dispose();
  await model.dispose();
  if (loads !== 1) process.exitCode = 1;
} finally {
  rmSync(directory, { recursive: true, force: true });
}

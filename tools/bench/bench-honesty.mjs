// Honesty of `nerion models bench` (issue #8): the median latency the CLI reports for llama_cpp ÷ the
// same request timed directly with node-llama-cpp (the engine's own client) in the same run.
// Target: 0.97 ≤ ratio ≤ 1.05 (the median of the per-round ratios). Exits 1 when outside it.
// Also printed: the ratio of the fastest requests on each side, which machine load disturbs least.
//
// Both sides run the same GGUF (a generated 4-block model, ~17 MB, so one request takes ~50–200 ms),
// the same chat-templated prompt, maxTokens, temperature 0, seed, 1 thread, the same context size, a
// cleared sequence per request, and the same warm-up count. Rounds alternate CLI and direct so drift
// in machine load hits both, and the order flips every round (whichever runs second finds the CPU caches
// holding the other's weights). Each side runs in a fresh process every round (the CLI is one anyway). Needs the built CLI (`npm run build`).
//
// Usage: node tools/bench/bench-honesty.mjs [rounds=8] [runs=6]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JinjaTemplateChatWrapper, LlamaCompletion, LlamaLogLevel, getLlama } from 'node-llama-cpp';
import { TINY_GGUF_DEFAULTS, writeTinyGguf } from '../fixtures/tiny-gguf.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'apps/cli/bin/run.js');
const directMode = process.argv[2] === '--direct';
const rounds = directMode ? 0 : Number(process.argv[2] ?? 8);
const runs = Number(process.argv[directMode ? 4 : 3] ?? 6);
const warmup = 2;
const maxTokens = 48;
const threads = 1;
const contextSize = 2048; // the backend's default: the model's context length (2048), capped at 8192
const prompt = 'Write a Python function `add(a, b)` that returns the sum of two numbers. Reply with code only.';
const TARGET = [0.97, 1.05];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function runCliBench(modelPath, home) {
  const args = [
    cli,
    'models',
    'bench',
    '--backends',
    'llama_cpp',
    '--models',
    'honesty',
    '--runs',
    String(runs),
    '--warmup',
    String(warmup),
    '--max-tokens',
    String(maxTokens),
    '--prompt',
    prompt,
    '--json',
  ];
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    NERION_CACHE_DIR: join(home, 'cache'),
    CI: 'true',
    LLAMA_CPP_MODEL_PATH: modelPath,
    NERION_LLAMA_THREADS: String(threads),
  };
  return runJson(args, env, (report) => {
    const [result] = report.results;
    if (result.status !== 'ok') throw new Error(`nerion models bench: ${result.status}: ${result.reason}`);
    return {
      medianMs: result.latencyMs,
      minMs: result.latency.min,
      tokens: result.samples.map((sample) => sample.completionTokens),
    };
  });
}

/** The direct side runs in a fresh process each round too, so both sides start equally cold. */
function runDirect(modelPath) {
  return runJson(
    [fileURLToPath(import.meta.url), '--direct', modelPath, String(runs)],
    { PATH: process.env.PATH ?? '' },
    (value) => value,
  );
}

/** The same request through node-llama-cpp itself: the chat template rendered the way the backend does. */
async function measureDirect(modelPath) {
  // node-llama-cpp set up as @nerion/backend-llamacpp sets it up (GPU when present, else CPU).
  const llama = await getLlama({ gpu: 'auto', maxThreads: 0, logLevel: LlamaLogLevel.error, progressLogs: false });
  const model = await llama.loadModel({ modelPath, gpuLayers: llama.gpu === false ? 0 : 'auto' });
  const context = await model.createContext({ contextSize, threads, sequences: 1 });
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const chatWrapper = new JinjaTemplateChatWrapper({ template: TINY_GGUF_DEFAULTS.chatTemplate });
  const rendered = chatWrapper.generateContextState({
    chatHistory: [
      { type: 'user', text: prompt },
      { type: 'model', response: [] },
    ],
  });
  const tokens = rendered.contextText.tokenize(model.tokenizer);
  const once = async () => {
    await sequence.clearHistory();
    const before = sequence.tokenMeter.usedOutputTokens;
    let text = '';
    const started = performance.now();
    await completion.generateCompletionWithMeta(tokens, {
      maxTokens,
      temperature: 0,
      seed: 42,
      customStopTriggers: rendered.stopGenerationTriggers,
      onTextChunk: (chunk) => (text += chunk),
    });
    return {
      ms: performance.now() - started,
      tokens: Math.min(maxTokens, sequence.tokenMeter.usedOutputTokens - before),
    };
  };
  for (let index = 0; index < warmup; index += 1) await once();
  const samples = [];
  for (let index = 0; index < runs; index += 1) samples.push(await once());
  await llama.dispose();
  const times = samples.map((sample) => sample.ms);
  return { medianMs: median(times), minMs: Math.min(...times), tokens: samples.map((sample) => sample.tokens) };
}

/** Runs a node process and parses the JSON it prints. */
function runJson(args, env, pick) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`${args.slice(0, 3).join(' ')} exited ${status}: ${stderr}`));
      try {
        resolve(pick(JSON.parse(stdout)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

if (directMode) {
  process.stdout.write(JSON.stringify(await measureDirect(process.argv[3])));
  process.exit(0);
}

const home = await mkdtemp(join(tmpdir(), 'nerion-bench-honesty-'));
try {
  const modelPath = join(home, 'honesty.gguf');
  const written = await writeTinyGguf(modelPath, { blocks: 4, embedding: 256, feedForward: 1024, heads: 8 });
  console.log(
    `load average (1 min) at the start: ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores — other work on the machine makes rounds disagree`,
  );
  console.log(
    `model: ${(written.bytes / 1e6).toFixed(1)} MB generated GGUF; ${rounds} rounds × ${runs} runs (+${warmup} warm-up), maxTokens ${maxTokens}, threads ${threads}`,
  );
  const ratios = [];
  const minima = { cli: Infinity, direct: Infinity };
  for (let round = 1; round <= rounds; round += 1) {
    let fromCli;
    let fromEngine;
    if (round % 2 === 1) {
      fromCli = await runCliBench(modelPath, home);
      fromEngine = await runDirect(modelPath);
    } else {
      fromEngine = await runDirect(modelPath);
      fromCli = await runCliBench(modelPath, home);
    }
    if (fromCli.tokens.join() !== fromEngine.tokens.join()) {
      throw new Error(
        `not the same work: the CLI generated [${fromCli.tokens}] tokens per run, node-llama-cpp [${fromEngine.tokens}]`,
      );
    }
    const ratio = fromCli.medianMs / fromEngine.medianMs;
    ratios.push(ratio);
    minima.cli = Math.min(minima.cli, fromCli.minMs);
    minima.direct = Math.min(minima.direct, fromEngine.minMs);
    console.log(
      `round ${round}: nerion models bench median ${fromCli.medianMs.toFixed(1)} ms   node-llama-cpp direct median ${fromEngine.medianMs.toFixed(1)} ms   ratio ${ratio.toFixed(3)}   (${fromCli.tokens[0]} tokens/run)`,
    );
  }
  const ratio = median(ratios);
  const ok = ratio >= TARGET[0] && ratio <= TARGET[1];
  console.log(
    `fastest request: nerion models bench ${minima.cli.toFixed(1)} ms, direct ${minima.direct.toFixed(1)} ms   ratio ${(minima.cli / minima.direct).toFixed(3)}`,
  );
  console.log(`load average (1 min) at the end: ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores`);
  console.log(
    `nerion models bench latency ÷ direct node-llama-cpp (median of ${rounds} rounds): ratio ${ratio.toFixed(3)} (target ${TARGET[0]}–${TARGET[1]}) ${ok ? 'OK' : 'OUTSIDE TARGET'}`,
  );
  if (!ok) process.exitCode = 1;
} finally {
  await rm(home, { recursive: true, force: true });
}

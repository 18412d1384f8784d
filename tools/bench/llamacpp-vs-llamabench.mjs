// nerion's llama_cpp backend against llama.cpp itself (issue #16): llama-bench built from the very llama.cpp
// release node-llama-cpp bundles, on the same generated model, interleaved in one run. Not part of CI.
//
//   npx tsc -b libs/backend-llamacpp/tsconfig.lib.json && node tools/bench/llamacpp-vs-llamabench.mjs \
//     [--rounds 3] [--prompt 512] [--decode 64] [--types F16,Q8_0] [--llama-bench /path/to/llama-bench]
//
// llama-bench: --llama-bench or NERION_LLAMA_BENCH names a binary; otherwise it is built once (~10-20 min on
// 2 cores) from node_modules/node-llama-cpp/llama/gitRelease.bundle into ~/.cache/nerion/llama-bench/
// (NERION_BENCH_CACHE moves it), outside the repository. Models (0.4B parameters: embedding 1024, 24 blocks,
// feed-forward 4096, 16 heads; random weights — speed depends only on shapes) are generated into the same
// cache by tools/fixtures/tiny-gguf.mjs.
//
// Printed, per model type: llama-bench pp<N>/tg<M> at each thread count (median of rounds); nerion at each
// thread count and at its default settings (thread counts measured on first load, in a fresh cache dir);
// the ratios nerion ÷ llama-bench's best thread count, and nerion's default ÷ the same. The machine may be
// shared: the 1-minute load average is printed beside every round, and medians are the headline.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTinyGguf } from '../fixtures/tiny-gguf.mjs';
import { createLlamaCppBackend, detectCpuBudget } from '../../libs/backend-llamacpp/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    prompt: { type: 'string', default: '512' },
    decode: { type: 'string', default: '64' },
    types: { type: 'string', default: 'F16,Q8_0' },
    'llama-bench': { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const promptTokens = Number(args.prompt);
const decodeTokens = Number(args.decode);
const types = args.types.split(',');
const cacheRoot = process.env.NERION_BENCH_CACHE ?? join(homedir(), '.cache', 'nerion', 'llama-bench');
const usable = detectCpuBudget().usable;
const threadCounts = Array.from({ length: Math.max(1, usable) }, (_, index) => index + 1);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const load = () => loadavg()[0].toFixed(2);
const fmt = (value) => (value === undefined || Number.isNaN(value) ? '—' : value.toFixed(1));

/** llama-bench from the node-llama-cpp bundle, built once into the cache (cmake, Release, no curl). */
function ensureLlamaBench() {
  const given = args['llama-bench'] ?? process.env.NERION_LLAMA_BENCH;
  if (given) {
    if (!existsSync(given)) throw new Error(`llama-bench not found at ${given}`);
    return given;
  }
  const bundle = join(root, 'node_modules/node-llama-cpp/llama/gitRelease.bundle');
  const source = join(cacheRoot, 'src');
  const binary = join(source, 'build/bin/llama-bench');
  if (existsSync(binary)) return binary;
  mkdirSync(cacheRoot, { recursive: true });
  const run = (command, argv, cwd) => {
    console.log(`$ ${command} ${argv.join(' ')}`);
    const result = spawnSync(command, argv, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`${command} failed (exit ${result.status}); see the output above`);
  };
  if (!existsSync(join(source, '.git'))) run('git', ['clone', '-q', bundle, source], cacheRoot);
  console.log(`building llama-bench into ${source}/build (once; ~10-20 minutes on 2 cores)…`);
  run('cmake', ['-B', 'build', '-DLLAMA_CURL=OFF', '-DCMAKE_BUILD_TYPE=Release'], source);
  run('cmake', ['--build', 'build', '-j', String(availableParallelism()), '--target', 'llama-bench'], source);
  return binary;
}

/** The 0.4B benchmark model in `type`, generated once into the cache. */
async function ensureModel(type) {
  const path = join(cacheRoot, 'models', `bench-415m-${type.toLowerCase()}.gguf`);
  if (!existsSync(path)) {
    console.log(`generating ${path}…`);
    await writeTinyGguf(path, {
      weightType: type,
      embedding: 1024,
      heads: 16,
      blocks: 24,
      feedForward: 4096,
      seed: 7,
      name: `nerion-bench-415m-${type}`,
    });
  }
  return path;
}

let llamaBenchBuild;

/** One llama-bench run (-r 1 after its own warm-up): tokens/s of pp<prompt> or tg<decode> at `threads`. */
function llamaBench(binary, model, threads, test) {
  const testArgs = test === 'pp' ? ['-p', String(promptTokens), '-n', '0'] : ['-p', '0', '-n', String(decodeTokens)];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, ['-m', model, '-t', String(threads), ...testArgs, '-r', '1', '-o', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`llama-bench exited ${code}: ${err.slice(-500)}`));
      const [result] = JSON.parse(out);
      if (!llamaBenchBuild) {
        llamaBenchBuild = `${result.build_commit} build ${result.build_number}, ${result.cpu_info}, backends ${result.backends}`;
        console.log(`llama-bench build: ${llamaBenchBuild}`);
      }
      resolvePromise(result.avg_ts);
    });
  });
}

/** A prompt of `promptTokens` tokens for the byte-level fixture vocabulary (one token per byte; a plain prompt gets no BOS). */
const promptText = 'x'.repeat(promptTokens);

async function nerionRun(backend) {
  const result = await backend.generate({ prompt: promptText, maxTokens: decodeTokens, temperature: 0 });
  return {
    pp: result.timings.promptTokensPerSecond,
    tg: result.timings.decodeTokensPerSecond,
    promptTokens: result.usage.promptTokens,
    completionTokens: result.usage.completionTokens,
  };
}

const settle = () => new Promise((resolvePromise) => setTimeout(resolvePromise, 200));

const binary = ensureLlamaBench();
console.log(
  `llama-bench: ${binary}; ${usable} usable cores; ` +
    `pp${promptTokens}, tg${decodeTokens}, ${rounds} rounds interleaved; load average now ${load()} ` +
    `(this machine may be shared: figures are medians and only as good as the load beside them)`,
);

const summary = [];
for (const type of types) {
  const model = await ensureModel(type);
  console.log(`\n== ${type}: ${model} (${(statSync(model).size / 2 ** 20).toFixed(0)} MiB)`);
  const tuningCache = mkdtempSync(join(tmpdir(), 'nerion-bench-threads-'));
  const backends = new Map();
  for (const threads of threadCounts)
    backends.set(
      `nerion t=${threads}`,
      createLlamaCppBackend({ model: `t${threads}`, modelPath: model, gpu: false, threads }),
    );
  // nerion's defaults: thread counts measured on this first load (a fresh cache dir), like a first `nerion plan`.
  const defaults = createLlamaCppBackend({
    model: 'default',
    modelPath: model,
    gpu: false,
    threadCacheDir: tuningCache,
  });
  backends.set('nerion default', defaults);
  const started = performance.now();
  await nerionRun(defaults); // loads the model and measures the thread counts (reported below)
  const details = (await defaults.probe({ timeoutMs: 10_000 })).facts;
  console.log(
    `nerion default: decode ${details.threads} threads, prompt ${details.promptThreads} (measured on first load in ${((performance.now() - started) / 1000).toFixed(1)} s incl. the load and one run, load ${details.threadsMeasuredLoadAverage?.toFixed(2)}; samples ${JSON.stringify(details.threadSamples?.map((s) => [s.threads, Math.round(s.promptTokensPerSecond), Math.round(s.decodeTokensPerSecond)]))} [threads, pp, tg])`,
  );
  for (const backend of backends.values())
    if (backend !== defaults) await backend.generate({ prompt: 'x'.repeat(16), maxTokens: 2, temperature: 0 }); // warm-up

  const samples = {};
  // Each sample is printed as it is taken, so a run cut short (a busy machine is slow) still leaves figures.
  const add = (label, test, value) => {
    (samples[label] ??= { pp: [], tg: [] })[test].push(value);
    console.log(`  ${label} ${test}: ${value.toFixed(1)} tok/s (load ${load()})`);
  };
  const variants = [
    ...threadCounts.flatMap((threads) =>
      ['pp', 'tg'].map((test) => ({
        label: `llama-bench t=${threads}`,
        run: async () => add(`llama-bench t=${threads}`, test, await llamaBench(binary, model, threads, test)),
      })),
    ),
    ...[...backends].map(([label, backend]) => ({
      label,
      run: async () => {
        const result = await nerionRun(backend);
        if (Math.abs(result.promptTokens - promptTokens) > 1)
          throw new Error(`prompt was ${result.promptTokens} tokens, not ${promptTokens}`);
        add(label, 'pp', result.pp);
        if (result.completionTokens >= Math.min(16, decodeTokens)) add(label, 'tg', result.tg);
      },
    })),
  ];
  for (let round = 0; round < rounds; round += 1) {
    const before = load();
    for (let offset = 0; offset < variants.length; offset += 1) {
      await settle();
      await variants[(round + offset) % variants.length].run();
    }
    console.log(`round ${round + 1}/${rounds}: load average ${before} → ${load()}`);
  }

  const medians = Object.fromEntries(
    Object.entries(samples).map(([label, { pp, tg }]) => [
      label,
      { pp: median(pp), tg: median(tg), ppAll: pp, tgAll: tg },
    ]),
  );
  for (const [label, { pp, tg, ppAll, tgAll }] of Object.entries(medians))
    console.log(
      `${label.padEnd(16)} pp${promptTokens} ${fmt(pp).padStart(7)} tok/s [${ppAll.map((v) => v.toFixed(0)).join(' ')}]   tg${decodeTokens} ${fmt(tg).padStart(6)} tok/s [${tgAll.map((v) => v.toFixed(1)).join(' ')}]`,
    );
  const benchLabels = threadCounts.map((threads) => `llama-bench t=${threads}`);
  const bestTg = benchLabels.reduce((a, b) => (medians[b].tg > medians[a].tg ? b : a));
  const bestPp = benchLabels.reduce((a, b) => (medians[b].pp > medians[a].pp ? b : a));
  const same = (label) => medians[label.replace('llama-bench', 'nerion')];
  const ratios = {
    type,
    decodeDefault: medians['nerion default'].tg / medians[bestTg].tg,
    promptDefault: medians['nerion default'].pp / medians[bestPp].pp,
    decodeSameThreads: same(bestTg).tg / medians[bestTg].tg,
    promptSameThreads: same(bestPp).pp / medians[bestPp].pp,
  };
  console.log(
    `decode: nerion default ÷ llama-bench best (${bestTg}) ${ratios.decodeDefault.toFixed(2)} (target ≥ 0.9); ` +
      `nerion at the same threads ÷ it ${ratios.decodeSameThreads.toFixed(2)}`,
  );
  console.log(
    `prompt: nerion default ÷ llama-bench best (${bestPp}) ${ratios.promptDefault.toFixed(2)} (target ≥ 0.8); ` +
      `nerion at the same threads ÷ it ${ratios.promptSameThreads.toFixed(2)}`,
  );
  summary.push(ratios);
  for (const backend of backends.values()) await backend.close();
  rmSync(tuningCache, { recursive: true, force: true });
}
console.log(`\nsummary (load average now ${load()}):`);
for (const r of summary)
  console.log(
    `${r.type.padEnd(5)} decode default ${r.decodeDefault.toFixed(2)}, same threads ${r.decodeSameThreads.toFixed(2)}; prompt default ${r.promptDefault.toFixed(2)}, same threads ${r.promptSameThreads.toFixed(2)}`,
  );

// nerion's llama_cpp backend against llama.cpp itself (issue #16): llama-bench built from the very llama.cpp
// release node-llama-cpp bundles, on the same generated model, interleaved in one run. Not part of CI.
//
//   npx tsc -b libs/backend-llamacpp/tsconfig.lib.json && node tools/bench/llamacpp-vs-llamabench.mjs \
//     [--rounds 3] [--prompt 512] [--decode 64] [--types F16,Q8_0] [--llama-bench /path/to/llama-bench] \
//     [--builds prebuilt,patched]
//
// --builds: `prebuilt` runs nerion on node-llama-cpp's prebuilt binaries (NERION_LLAMA_BUILD=prebuilt);
// `patched` on nerion's opt-in build with the threadpool patch (`nerion doctor --build-llama`), when it
// exists. Each build's backends run in a worker process of their own (tools/bench/llamacpp-worker.mjs).
//
// Two llama-bench references: llama-bench as built (from the bundle: native, OpenMP) and, on Linux, the same
// llama-bench binary run on node-llama-cpp's prebuilt libraries (`llama-bench[nlc libs]`: its libllama,
// libggml and CPU variants, linked in by soname in a folder of symlinks in the cache). The second is the
// engine exactly as node-llama-cpp ships it, so nerion ÷ it is the cost of the addon's calling pattern alone.
//
// Decode is compared twice: against llama-bench `tg<M>` (an empty context: the issue's figure) and against
// `tg<M> @ d<N>` (decode after N tokens already in the context, which is what nerion's decode after the
// prompt is). The second is the like-for-like ratio.
//
// llama-bench: --llama-bench or NERION_LLAMA_BENCH names a binary; otherwise it is built once (~10-20 min on
// 2 cores) from node_modules/node-llama-cpp/llama/gitRelease.bundle into ~/.cache/nerion/llama-bench/
// (NERION_BENCH_CACHE moves it), outside the repository, in llama.cpp's default configuration (native, OpenMP,
// AMX where the CPU has it) with nerion's AMX tile-configuration fix (@nerion/backend-llamacpp's
// patches/llama.cpp-v0.4.0-amx-tile-config.patch; without it GCC 12 builds an AMX kernel that crashes). A
// llama-bench already in the cache is used as it is: delete the cache's src/ folder to rebuild it with the fix.
// Which llama.cpp build is fastest depends on the weight type (decision 0005): on a Sapphire Rapids CPU a native
// build without AMX decodes F16 faster (AVX512-FP16 arithmetic) and Q8_0 at half the speed; pass such a build
// with --llama-bench to compare.
//
// Models (0.4B parameters: embedding 1024, 24 blocks, feed-forward 4096, 16 heads; random weights — speed
// depends only on shapes) are generated into the same cache by tools/fixtures/tiny-gguf.mjs.
//
// Printed, per model type: llama-bench pp<N>/tg<M> at each thread count (median of rounds); nerion at each
// thread count and at its default settings (thread counts measured on first load, in a fresh cache dir);
// the ratios nerion ÷ llama-bench's best thread count, and nerion's default ÷ the same. The machine may be
// shared: the 1-minute load average is printed beside every round, and medians are the headline.
import { fork, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { availableParallelism, homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTinyGguf } from '../fixtures/tiny-gguf.mjs';
import {
  amxTileConfigPatchFile,
  detectCpuBudget,
  prebuiltBinariesDirectory,
} from '../../libs/backend-llamacpp/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    prompt: { type: 'string', default: '512' },
    decode: { type: 'string', default: '64' },
    types: { type: 'string', default: 'F16,Q8_0' },
    'llama-bench': { type: 'string' },
    builds: { type: 'string', default: 'prebuilt,patched' },
  },
});
const rounds = Number(args.rounds);
const promptTokens = Number(args.prompt);
const decodeTokens = Number(args.decode);
const types = args.types.split(',');
const builds = args.builds.split(',');
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
  // llama.cpp's default build is native (-march=native): on an AMX CPU, GCC 12 compiles the unpatched AMX kernel
  // into code that dies with SIGILL on the first quantised prompt, so the fix nerion's build uses goes in first.
  const fix = amxTileConfigPatchFile();
  const applies = (reverse) =>
    spawnSync('git', ['apply', '--check', ...(reverse ? ['--reverse'] : []), fix], { cwd: source }).status === 0;
  if (applies(false)) run('git', ['apply', fix], source);
  else if (!applies(true)) throw new Error(`${fix} does not apply to ${source}; remove that folder to start again`);
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

/**
 * The llama-bench binary (a shared-library build) on node-llama-cpp's prebuilt libraries: a folder holding a
 * copy of the binary and its own bench library, and symlinks to the prebuilt libllama, libggml, libggml-base,
 * libllama-common (under the sonames llama-bench asks for and their own) and CPU variants (ggml looks for
 * those beside the executable). Undefined where that is not possible (not Linux, a static llama-bench).
 */
function llamaBenchOnPrebuiltLibraries(binary) {
  const prebuilt = prebuiltBinariesDirectory();
  const impl = join(dirname(binary), 'libllama-bench-impl.so');
  if (process.platform !== 'linux' || prebuilt === undefined || !existsSync(impl)) return undefined;
  const folder = join(cacheRoot, 'llama-bench-on-nlc-libs');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  copyFileSync(binary, join(folder, 'llama-bench'));
  copyFileSync(impl, join(folder, 'libllama-bench-impl.so'));
  const files = readdirSync(prebuilt);
  const named = (pattern) => files.find((file) => pattern.test(file));
  const links = {
    'libllama.so.0': named(/^libllama\.v[\d.]+\.so$/),
    'libggml.so.0': named(/^libggml\.v[\d.]+\.so$/),
    'libggml-base.so.0': 'libggml-base.so',
    'libllama-common.so.0': 'libllama-common.so',
  };
  if (Object.values(links).some((file) => file === undefined || !files.includes(file))) return undefined;
  for (const [soname, file] of Object.entries(links)) symlinkSync(join(prebuilt, file), join(folder, soname));
  for (const file of files)
    if (file.endsWith('.so') && !existsSync(join(folder, file))) symlinkSync(join(prebuilt, file), join(folder, file));
  return join(folder, 'llama-bench');
}

const llamaBenchBuilds = new Map();

/** One llama-bench run (-r 1 after its own warm-up): tokens/s of pp<prompt>, tg<decode>, or tg<decode> @ d<prompt> at `threads`. */
function llamaBench(binary, model, threads, test) {
  const onPrebuilt = binary.includes('llama-bench-on-nlc-libs');
  const testArgs =
    test === 'pp'
      ? ['-p', String(promptTokens), '-n', '0']
      : ['-p', '0', '-n', String(decodeTokens), ...(test === 'tgd' ? ['-d', String(promptTokens)] : [])];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, ['-m', model, '-t', String(threads), ...testArgs, '-r', '1', '-o', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(onPrebuilt ? { env: { ...process.env, LD_LIBRARY_PATH: dirname(binary) } } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`llama-bench exited ${code}: ${err.slice(-500)}`));
      const [result] = JSON.parse(out);
      if (!llamaBenchBuilds.has(binary)) {
        const described = `${result.build_commit} build ${result.build_number}, ${result.cpu_info}, backends ${result.backends}`;
        llamaBenchBuilds.set(binary, described);
        console.log(`llama-bench build (${binary}): ${described}`);
      }
      resolvePromise(result.avg_ts);
    });
  });
}

/** A prompt of `promptTokens` tokens for the byte-level fixture vocabulary (one token per byte; a plain prompt gets no BOS). */
const promptText = 'x'.repeat(promptTokens);

const settle = () => new Promise((resolvePromise) => setTimeout(resolvePromise, 200));

const binary = ensureLlamaBench();
const prebuiltBinary = llamaBenchOnPrebuiltLibraries(binary);
console.log(
  prebuiltBinary
    ? `llama-bench[nlc libs]: ${prebuiltBinary} (the same llama-bench on node-llama-cpp's prebuilt libraries)`
    : 'llama-bench[nlc libs]: not available here (Linux and a shared-library llama-bench only)',
);
console.log(
  `llama-bench: ${binary}; ${usable} usable cores; ` +
    `pp${promptTokens}, tg${decodeTokens}, ${rounds} rounds interleaved; load average now ${load()} ` +
    `(this machine may be shared: figures are medians and only as good as the load beside them)`,
);

const summary = [];
for (const type of types) {
  const model = await ensureModel(type);
  console.log(`\n== ${type}: ${model} (${(statSync(model).size / 2 ** 20).toFixed(0)} MiB)`);
  const tuningCaches = [];
  /** One worker per build: its backends at each thread count and at the defaults (measured on first load). */
  const workers = [];
  for (const build of builds) {
    const child = fork(join(root, 'tools/bench/llamacpp-worker.mjs'), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let waiting;
    child.on('message', (message) => {
      const pending = waiting;
      waiting = undefined;
      if (message.op === 'error') pending?.reject(new Error(`worker (${build}): ${message.message}`));
      else pending?.resolve(message);
    });
    child.on('exit', (code) => waiting?.reject(new Error(`worker (${build}) exited ${code}`)));
    const ask = (message) =>
      new Promise((resolvePromise, reject) => {
        waiting = { resolve: resolvePromise, reject };
        child.send(message);
      });
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-bench-threads-'));
    tuningCaches.push(cacheDir);
    const started = performance.now();
    const ready = await ask({
      op: 'init',
      model,
      build: build === 'patched' ? 'auto' : 'prebuilt',
      threadCounts,
      cacheDir,
    });
    const facts = ready.facts;
    if (build === 'patched' && facts.bindings !== 'localBuild') {
      console.log('patched: no patched build here (`nerion doctor --build-llama` makes one); skipped');
      child.send({ op: 'close' });
      continue;
    }
    const name = build === 'patched' ? 'nerion+patch' : 'nerion';
    console.log(
      `${name} default: decode ${facts.threads} threads, prompt ${facts.promptThreads} (bindings ${facts.bindings}; measured on first load in ${((performance.now() - started) / 1000).toFixed(1)} s incl. the load, load ${facts.threadsMeasuredLoadAverage?.toFixed(2)}; samples ${JSON.stringify(facts.threadSamples?.map((sample) => [sample.threads, Math.round(sample.promptTokensPerSecond), Math.round(sample.decodeTokensPerSecond)]))} [threads, pp, tg])`,
    );
    workers.push({ name, child, ask });
  }

  const samples = {};
  // Each sample is printed as it is taken, so a run cut short (a busy machine is slow) still leaves figures.
  const add = (label, test, value) => {
    (samples[label] ??= { pp: [], tg: [], tgd: [] })[test].push(value);
    console.log(
      `  ${label} ${test === 'tgd' ? `tg@d${promptTokens}` : test}: ${value.toFixed(1)} tok/s (load ${load()})`,
    );
  };
  const variants = [
    ...threadCounts.flatMap((threads) =>
      ['pp', 'tg', 'tgd'].map((test) => ({
        run: async () => add(`llama-bench t=${threads}`, test, await llamaBench(binary, model, threads, test)),
      })),
    ),
    ...(prebuiltBinary
      ? threadCounts.flatMap((threads) =>
          ['pp', 'tg', 'tgd'].map((test) => ({
            run: async () =>
              add(`llama-bench[nlc libs] t=${threads}`, test, await llamaBench(prebuiltBinary, model, threads, test)),
          })),
        )
      : []),
    ...workers.flatMap((worker) =>
      [...threadCounts.map((threads) => `t=${threads}`), 'default'].map((label) => ({
        run: async () => {
          const result = await worker.ask({ op: 'run', label, prompt: promptText, maxTokens: decodeTokens });
          if (Math.abs(result.promptTokens - promptTokens) > 1)
            throw new Error(`prompt was ${result.promptTokens} tokens, not ${promptTokens}`);
          add(`${worker.name} ${label}`, 'pp', result.pp);
          if (result.completionTokens >= Math.min(16, decodeTokens)) add(`${worker.name} ${label}`, 'tgd', result.tg);
          // Decode from a one-token prompt: llama-bench's tg (an empty context). Tokens ÷ the whole call, so the
          // prompt's one step counts against nerion (the backend's own decode rate needs a first text part, and
          // random weights over a byte vocabulary may emit none).
          const empty = await worker.ask({ op: 'run', label, prompt: 'x', maxTokens: decodeTokens });
          if (empty.completionTokens >= Math.min(16, decodeTokens))
            add(`${worker.name} ${label}`, 'tg', empty.completionTokens / (empty.totalMs / 1000));
        },
      })),
    ),
  ];
  for (let round = 0; round < rounds; round += 1) {
    const before = load();
    for (let offset = 0; offset < variants.length; offset += 1) {
      await settle();
      await variants[(round + offset) % variants.length].run();
    }
    console.log(`round ${round + 1}/${rounds}: load average ${before} → ${load()}`);
  }
  for (const worker of workers) worker.child.send({ op: 'close' });

  const medians = Object.fromEntries(
    Object.entries(samples).map(([label, { pp, tg, tgd }]) => [
      label,
      { pp: median(pp), tg: median(tg), tgd: tgd.length ? median(tgd) : undefined, ppAll: pp, tgAll: tg, tgdAll: tgd },
    ]),
  );
  for (const [label, { pp, tg, tgd, ppAll, tgAll, tgdAll }] of Object.entries(medians))
    console.log(
      `${label.padEnd(28)} pp${promptTokens} ${fmt(pp).padStart(7)} [${ppAll.map((v) => v.toFixed(0)).join(' ')}]   tg${decodeTokens} ${fmt(tg).padStart(6)} [${tgAll.map((v) => v.toFixed(1)).join(' ')}]` +
        (tgd === undefined
          ? ''
          : `   tg${decodeTokens}@d${promptTokens} ${fmt(tgd).padStart(6)} [${tgdAll.map((v) => v.toFixed(1)).join(' ')}]`),
    );
  const labelsOf = (prefix) => threadCounts.map((threads) => `${prefix} t=${threads}`);
  const best = (rate, labels = labelsOf('llama-bench')) =>
    labels.reduce((a, b) => (medians[b][rate] > medians[a][rate] ? b : a));
  const bestTg = best('tg');
  const bestTgd = best('tgd');
  const bestPp = best('pp');
  const onLibs = prebuiltBinary ? labelsOf('llama-bench[nlc libs]') : undefined;
  for (const worker of workers) {
    const mine = (label) => medians[`${worker.name} ${label}`];
    const ratios = {
      type,
      build: worker.name,
      decodeDefault: mine('default').tg / medians[bestTg].tg,
      decodeDefaultDepth: mine('default').tgd / medians[bestTgd].tgd,
      promptDefault: mine('default').pp / medians[bestPp].pp,
      decodeSameThreadsDepth: mine(bestTgd.replace('llama-bench ', '')).tgd / medians[bestTgd].tgd,
      promptSameThreads: mine(bestPp.replace('llama-bench ', '')).pp / medians[bestPp].pp,
      ...(onLibs
        ? {
            decodeDefaultLibs: mine('default').tg / medians[best('tg', onLibs)].tg,
            promptDefaultLibs: mine('default').pp / medians[best('pp', onLibs)].pp,
          }
        : {}),
    };
    if (onLibs)
      console.log(
        `${worker.name} ÷ llama-bench[nlc libs] best (node-llama-cpp's own binaries): decode tg${decodeTokens} ${ratios.decodeDefaultLibs.toFixed(2)}, prompt pp${promptTokens} ${ratios.promptDefaultLibs.toFixed(2)}`,
      );
    console.log(
      `${worker.name} decode: default ÷ llama-bench best tg${decodeTokens} (${bestTg}) ${ratios.decodeDefault.toFixed(2)} (target ≥ 0.9); ` +
        `÷ best tg${decodeTokens}@d${promptTokens} (${bestTgd}, like for like) ${ratios.decodeDefaultDepth.toFixed(2)}; same threads ÷ it ${ratios.decodeSameThreadsDepth.toFixed(2)}`,
    );
    console.log(
      `${worker.name} prompt: default ÷ llama-bench best pp${promptTokens} (${bestPp}) ${ratios.promptDefault.toFixed(2)} (target ≥ 0.8); ` +
        `same threads ÷ it ${ratios.promptSameThreads.toFixed(2)}`,
    );
    summary.push(ratios);
  }
  for (const cacheDir of tuningCaches) rmSync(cacheDir, { recursive: true, force: true });
}
console.log(`\nsummary (load average now ${load()}):`);
for (const r of summary)
  console.log(
    `${r.type.padEnd(5)} ${r.build.padEnd(12)} decode default ÷ tg ${r.decodeDefault.toFixed(2)}, ÷ tg@depth ${r.decodeDefaultDepth.toFixed(2)} (same threads ${r.decodeSameThreadsDepth.toFixed(2)}); prompt default ${r.promptDefault.toFixed(2)} (same threads ${r.promptSameThreads.toFixed(2)})` +
      (r.decodeDefaultLibs === undefined
        ? ''
        : `; ÷ llama-bench[nlc libs]: decode ${r.decodeDefaultLibs.toFixed(2)}, prompt ${r.promptDefaultLibs.toFixed(2)}`),
  );

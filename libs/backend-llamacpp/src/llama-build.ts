/**
 * nerion's opt-in llama.cpp build (issue #16): node-llama-cpp's own source build, from the llama.cpp release
 * it bundles (`node_modules/node-llama-cpp/llama/gitRelease.bundle`), with OpenMP.
 *
 * Why: node-llama-cpp's prebuilt CPU binaries are built with `GGML_OPENMP=OFF`, so ggml creates its worker
 * threads anew for every `llama_decode` (one `clone3` per decoded token at 2 threads) and lets them go after
 * the graph; llama.cpp's own tools (llama-bench, llama-server) are built with OpenMP, whose worker team
 * persists and spins between graphs. See docs/decisions/0004-llama-openmp-build.md for the measurements.
 *
 * Never a default install step: `nerion doctor --build-llama` runs it when a user asks. The result lives in
 * node-llama-cpp's `llama/localBuilds/` under a folder named after these CMake options, so it is loaded only
 * by a `getLlama()` that passes the same options (`llamaBuildGetLlamaOptions`); node-llama-cpp's default
 * `getLlama()` keeps using the prebuilt binaries.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NerionError, describeError, stopProcessGroup, type SpawnFunction } from '@nerion/backend-core';

/** `auto`: nerion's OpenMP build when `nerion doctor --build-llama` made one, else the prebuilt binaries. */
export type LlamaBuildSetting = 'auto' | 'prebuilt';

/**
 * Release flags with the AMX instructions left out. They go into the *_RELEASE flags because cmake-js (which
 * node-llama-cpp builds with) sets CMAKE_CXX_FLAGS itself (`-DBUILDING_NODE_EXTENSION`), and a
 * CMAKE_CXX_FLAGS given here is lost: the C files then lose AMX, the C++ AMX kernels keep it (seen).
 */
const RELEASE_WITHOUT_AMX = '-O3 -DNDEBUG -mno-amx-tile -mno-amx-int8 -mno-amx-bf16';

/**
 * The CMake options of the opt-in build. `GGML_NATIVE=ON` compiles for this CPU (node-llama-cpp's default for
 * a local build). On x86-64 the AMX instructions are left out: a virtual machine can list `amx_tile` in its
 * CPU flags without granting the tile state, and `-march=native` code then dies with SIGILL on the first
 * quantised matrix product (seen on this project's CI machines); an explicit `-mno-amx-*` wins over
 * `-march=native` in GCC and Clang whatever the order.
 */
export function llamaBuildCmakeOptions(arch: string = process.arch): Record<string, string> {
  return {
    GGML_OPENMP: 'ON',
    GGML_NATIVE: 'ON',
    ...(arch === 'x64'
      ? { CMAKE_C_FLAGS_RELEASE: RELEASE_WITHOUT_AMX, CMAKE_CXX_FLAGS_RELEASE: RELEASE_WITHOUT_AMX }
      : {}),
  };
}

/** What to pass to node-llama-cpp's getLlama() so it loads nerion's build when present, else its prebuilt one. */
export function llamaBuildGetLlamaOptions(setting: LlamaBuildSetting): {
  build: 'never';
  cmakeOptions?: Record<string, string>;
} {
  // build 'never': a missing or unloadable binary is an error to report, never a silent source build (which
  // could download cmake or llama.cpp: the network without consent).
  return setting === 'prebuilt' ? { build: 'never' } : { build: 'never', cmakeOptions: llamaBuildCmakeOptions() };
}

/** The kind of binaries a loaded Llama runs, in words for doctor and the thread cache. */
export function describeLlamaBuild(buildType: string): string {
  return buildType === 'localBuild'
    ? 'nerion OpenMP build (nerion doctor --build-llama)'
    : 'node-llama-cpp prebuilt binaries';
}

/** Where node-llama-cpp is installed: its package folder. */
export function nodeLlamaCppDirectory(): string {
  // The package's main entry is dist/index.js.
  return dirname(dirname(createRequire(import.meta.url).resolve('node-llama-cpp')));
}

/** One line of the build's output as progress: ninja's `[12/277]` or make's `[ 45%]`. */
export function parseBuildProgress(line: string): { fraction: number; step?: string } | undefined {
  const ninja = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line.trim());
  if (ninja) {
    const done = Number(ninja[1]);
    const total = Number(ninja[2]);
    if (total > 0 && done <= total) return { fraction: done / total, step: ninja[3] || undefined };
  }
  const make = /^\[\s*(\d{1,3})%\]\s*(.*)$/.exec(line.trim());
  if (make && Number(make[1]) <= 100) return { fraction: Number(make[1]) / 100, step: make[2] || undefined };
  return undefined;
}

export interface BuildPrerequisites {
  /** node-llama-cpp's package folder. */
  packageDirectory: string;
  /** The llama.cpp release tag of the bundle (e.g. `v0.4.0`). */
  release: string;
  cmake: string;
  compiler: string;
}

/** Whether `command --version` runs (found on PATH and working). */
function answers(command: string, env: NodeJS.ProcessEnv | undefined): boolean {
  const result = spawnSync(command, ['--version'], {
    stdio: 'ignore',
    timeout: 10_000,
    ...(env === undefined ? {} : { env }),
  });
  return !result.error && result.status === 0;
}

/**
 * Everything the build needs from this machine, checked before anything starts: node-llama-cpp's bundled
 * llama.cpp source, cmake and a C++ compiler on PATH. node-llama-cpp would download cmake or the source
 * from GitHub when they are missing; nerion refuses instead, so the build never touches the network.
 */
export function checkBuildPrerequisites(
  options: {
    packageDirectory?: string;
    /** The environment whose PATH is searched (default: this process's, inherited). */
    env?: NodeJS.ProcessEnv;
  } = {},
): BuildPrerequisites {
  const packageDirectory = options.packageDirectory ?? nodeLlamaCppDirectory();
  const bundle = join(packageDirectory, 'llama', 'gitRelease.bundle');
  const infoFile = join(packageDirectory, 'llama', 'binariesGithubRelease.json');
  if (!existsSync(bundle) || !existsSync(infoFile))
    throw new NerionError(
      'BUILD_FAILED',
      `node-llama-cpp at ${packageDirectory} has no bundled llama.cpp source (llama/gitRelease.bundle) — reinstall it with \`npm i -E node-llama-cpp@3.21.1\`; nerion builds only from that bundle, never from the network.`,
      { fix: { command: ['npm', 'i', '-E', 'node-llama-cpp@3.21.1'] }, data: { packageDirectory } },
    );
  let release: string;
  try {
    release = String((JSON.parse(readFileSync(infoFile, 'utf8')) as { release?: unknown }).release);
  } catch (error) {
    throw new NerionError(
      'BUILD_FAILED',
      `${infoFile} could not be read (${describeError(error)}) — reinstall node-llama-cpp (\`npm i -E node-llama-cpp@3.21.1\`).`,
      { fix: { command: ['npm', 'i', '-E', 'node-llama-cpp@3.21.1'] }, cause: error },
    );
  }
  const found = (candidates: readonly string[]): string | undefined =>
    candidates.find((command) => answers(command, options.env));
  const cmake = found(['cmake']);
  const compiler = found(['c++', 'g++', 'clang++']);
  const missing = [...(cmake ? [] : ['cmake']), ...(compiler ? [] : ['a C++ compiler (g++ or clang++)'])];
  if (!cmake || !compiler)
    throw new NerionError(
      'BUILD_FAILED',
      `Building llama.cpp needs ${missing.join(' and ')} on PATH — install ${missing.length > 1 ? 'them' : 'it'} (on Debian or Ubuntu: \`sudo apt-get install cmake g++\`) and run \`nerion doctor --build-llama\` again. nerion does not download build tools.`,
      { fix: { command: ['sudo', 'apt-get', 'install', 'cmake', 'g++'] }, data: { missing } },
    );
  return { packageDirectory, release, cmake, compiler };
}

export interface BuildLlamaOptions {
  prerequisites: BuildPrerequisites;
  /** The whole output of both steps is written here (and named in any error). */
  logFile: string;
  /** Called with the build's progress (0…1) and the step being compiled. */
  onProgress?: (fraction: number, step: string | undefined) => void;
  /** Called for each phase: `source` (unpacking the bundle), `build`. */
  onPhase?: (phase: 'source' | 'build') => void;
  signal?: AbortSignal;
  /** The environment of the build (the CLI passes its own), to which the CMake options are added. */
  env: NodeJS.ProcessEnv;
  spawn?: SpawnFunction;
  /** node-llama-cpp's CLI (default: its `dist/cli/cli.js`); tests name a stand-in. */
  cliPath?: string;
}

/**
 * Runs node-llama-cpp's `source download` (from the bundle, when the source is not unpacked yet) and
 * `source build --gpu false` with nerion's CMake options, as child processes in their own process group
 * (an abort stops the whole compile). Resolves when the build is in place.
 */
export async function buildLlamaCpp(options: BuildLlamaOptions): Promise<void> {
  const { prerequisites } = options;
  const cli = options.cliPath ?? join(prerequisites.packageDirectory, 'dist', 'cli', 'cli.js');
  const env: NodeJS.ProcessEnv = { ...options.env };
  for (const [name, value] of Object.entries(llamaBuildCmakeOptions()))
    env[`NODE_LLAMA_CPP_CMAKE_OPTION_${name}`] = value;
  // node-llama-cpp's source download replaces llama/llama.cpp from the bundle; skip it when already unpacked.
  const sourceReady =
    existsSync(join(prerequisites.packageDirectory, 'llama', 'llama.cpp', '.git')) &&
    existsSync(join(prerequisites.packageDirectory, 'llama', 'llama.cpp.info.json'));
  const log = createWriteStream(options.logFile, { flags: 'w' });
  try {
    if (!sourceReady) {
      options.onPhase?.('source');
      await runStep(options, log, env, [
        cli,
        'source',
        'download',
        '--release',
        prerequisites.release,
        '--skipBuild',
        '--gpu',
        'false',
        '--noUsageExample',
      ]);
    }
    options.onPhase?.('build');
    await runStep(options, log, env, [cli, 'source', 'build', '--gpu', 'false', '--noUsageExample']);
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

function runStep(
  options: BuildLlamaOptions,
  log: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
  argv: string[],
): Promise<void> {
  const spawnFunction = options.spawn ?? spawn;
  return new Promise<void>((resolve, reject) => {
    if (options.signal?.aborted) return reject(aborted(options.logFile));
    log.write(`$ node ${argv.join(' ')}\n`);
    const child: ChildProcess = spawnFunction(process.execPath, argv, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: cmake, ninja and the compilers stop with it
    });
    const tail: string[] = [];
    let pending = '';
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 8) tail.shift();
        const progress = parseBuildProgress(line);
        if (progress) options.onProgress?.(progress.fraction, progress.step);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // SIGTERM to the whole group (cmake, ninja, the compilers), SIGKILL after 5 s to any that stay.
    const stop = () => {
      if (child.pid !== undefined) void stopProcessGroup(child.pid, 5000).catch(() => undefined);
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', stop);
      reject(
        new NerionError('BUILD_FAILED', `The llama.cpp build could not start (${describeError(error)}).`, {
          cause: error,
        }),
      );
    });
    child.on('close', (code, signalName) => {
      options.signal?.removeEventListener('abort', stop);
      if (options.signal?.aborted) return reject(aborted(options.logFile));
      if (code === 0) return resolve();
      const last = tail.slice(-4).join(' | ');
      reject(
        new NerionError(
          'BUILD_FAILED',
          `The llama.cpp build failed (${signalName ?? `exit ${String(code)}`}): ${last || 'no output'} — the whole output is in ${options.logFile}. The prebuilt binaries are still used.`,
          { data: { logFile: options.logFile, exitCode: code } },
        ),
      );
    });
  });
}

function aborted(logFile: string): NerionError {
  return new NerionError(
    'BUILD_FAILED',
    `The llama.cpp build was stopped; nothing was installed (the output so far is in ${logFile}). The prebuilt binaries are still used.`,
    { data: { logFile } },
  );
}

/**
 * nerion's opt-in llama.cpp build (issue #16): node-llama-cpp's own source build, from the llama.cpp release
 * it bundles (`node_modules/node-llama-cpp/llama/gitRelease.bundle`), in the configuration of its prebuilt
 * binaries, with one small patch to its addon (`patches/node-llama-cpp-3.21.1-threadpool.patch`) and, for
 * kernels compiled here, llama.cpp's AMX tile-configuration fix (`patches/llama.cpp-v0.4.0-amx-tile-config.patch`).
 *
 * Why: node-llama-cpp never attaches a ggml threadpool to a context, so ggml creates and joins its worker
 * threads on every `llama_decode`, while llama-bench and llama-server attach one persistent pool that polls
 * between graphs. The patch attaches one per context. On the 2-core machine this project is built on that
 * is the whole gap for quantised models: llama-bench on node-llama-cpp's own prebuilt libraries decodes Q8_0
 * at ~41 tok/s, node-llama-cpp at ~27. See docs/decisions/0005-llama-threadpool-patch.md.
 *
 * Never a default install step: `nerion doctor --build-llama` runs it when a user asks. The patch is applied
 * for the build only and taken out afterwards. The result lives in node-llama-cpp's `llama/localBuilds/`
 * under a folder named after these CMake options, so it is loaded only by a `getLlama()` that passes the same
 * options (`llamaBuildGetLlamaOptions`); node-llama-cpp's default `getLlama()` keeps using the prebuilt binaries.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NerionError, describeError, stopProcessGroup, type SpawnFunction } from '@nerion/backend-core';
import { applyPatch, parsePatch, reversePatch } from 'diff';
import writeFileAtomic from 'write-file-atomic';

/** `auto`: nerion's build when `nerion doctor --build-llama` made one, else the prebuilt binaries. */
export type LlamaBuildSetting = 'auto' | 'prebuilt';

/** Names the addon patch in the build's CMake options (and so in node-llama-cpp's build folder name). */
export const ADDON_PATCH_ID = 'threadpool-1';

/** The addon patch shipped with this package. */
export function addonPatchFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'patches', 'node-llama-cpp-3.21.1-threadpool.patch');
}

/**
 * The fix to ggml's AMX tile configuration shipped with this package, for llama.cpp's source (paths relative
 * to the llama.cpp folder). GCC 12.2 compiles the unpatched kernel into code that dies with SIGILL on an AMX
 * CPU; the build only needs it when it keeps its own CPU kernels, and the benchmark's llama-bench always.
 */
export function amxTileConfigPatchFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'patches', 'llama.cpp-v0.4.0-amx-tile-config.patch');
}

/**
 * The CMake options of the opt-in build: those node-llama-cpp's own CI builds its prebuilt binaries with
 * (`compileLLamaCpp.js`, ciMode): no OpenMP, no `-march=native`, and where llama.cpp has them every CPU
 * variant as a dynamically loaded backend, chosen at run time by what the CPU offers (on x86-64 that is how
 * the prebuilt binaries use AVX-512 and AMX where the CPU grants them, and never where it does not). So the
 * only difference from the prebuilt binaries is the addon patch, named by `NERION_ADDON_PATCH` (which
 * llama.cpp ignores; it makes the build folder nerion's own).
 */
export function llamaBuildCmakeOptions(
  arch: string = process.arch,
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  const allVariants =
    arch === 'x64' ||
    ((arch === 'arm64' || arch === 'arm') && (platform === 'linux' || platform === 'darwin')) ||
    ((arch === 'ppc64' || arch === 'ppc' || arch === 's390x' || arch === 'riscv64') && platform === 'linux');
  return {
    GGML_OPENMP: 'OFF',
    GGML_NATIVE: 'OFF',
    ...(allVariants ? { GGML_CPU_ALL_VARIANTS: 'ON' } : {}),
    GGML_BACKEND_DL: 'ON',
    NERION_ADDON_PATCH: ADDON_PATCH_ID,
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
    ? `nerion build with the threadpool patch (${ADDON_PATCH_ID}; nerion doctor --build-llama)`
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

/** A patch in place for a build; `restore()` puts the original sources back, byte for byte. */
export interface AppliedSourcePatch {
  /** The patched files, relative to node-llama-cpp's `llama/` folder. */
  files: readonly string[];
  /** The sources were already patched (a build stopped before it could restore them). */
  alreadyApplied: boolean;
  restore(): void;
}

const REINSTALL: readonly string[] = ['npm', 'i', '-E', 'node-llama-cpp@3.21.1'];

/**
 * Applies one unified diff to the files under `root` (its paths are relative to it). Every file is checked
 * before any is written, so a source that is not the one the patch is for changes nothing and is the error
 * `mismatch` makes. Sources left patched by an interrupted build are recognised (the patch reverses cleanly)
 * and restored to the original afterwards all the same.
 */
function applySourcePatch(options: {
  root: string;
  patchFile: string;
  /** `root` relative to node-llama-cpp's `llama/` folder ('' for the folder itself). */
  shownRoot: string;
  mismatch: (shown: string, why: string) => NerionError;
}): AppliedSourcePatch {
  const planned = parsePatch(readFileSync(options.patchFile, 'utf8')).map((patch) => {
    const name = (patch.newFileName ?? '').replace(/^b\//, '');
    const file = join(options.root, name);
    const shown = join(options.shownRoot, name);
    let current: string;
    try {
      current = readFileSync(file, 'utf8');
    } catch (error) {
      throw options.mismatch(shown, `could not be read (${describeError(error)})`);
    }
    const patched = applyPatch(current, patch);
    if (patched !== false) return { file, shown, original: current, patched, already: false };
    const original = applyPatch(current, reversePatch(patch));
    if (original !== false) return { file, shown, original, patched: current, already: true };
    throw options.mismatch(shown, 'is not the one the patch was written for');
  });
  for (const entry of planned) if (!entry.already) writeFileAtomic.sync(entry.file, entry.patched);
  return {
    files: planned.map((entry) => entry.shown),
    alreadyApplied: planned.every((entry) => entry.already),
    restore: () => {
      for (const entry of planned) writeFileAtomic.sync(entry.file, entry.original);
    },
  };
}

/**
 * Applies nerion's addon patch to node-llama-cpp's `llama/addon` sources (see `applySourcePatch`). A source
 * that does not fit is BUILD_FAILED with the reinstall command.
 */
export function applyAddonPatch(packageDirectory: string, patchFile: string = addonPatchFile()): AppliedSourcePatch {
  return applySourcePatch({
    root: join(packageDirectory, 'llama'),
    patchFile,
    shownRoot: '',
    mismatch: (shown, why) =>
      new NerionError(
        'BUILD_FAILED',
        `node-llama-cpp's addon source llama/${shown} ${why}, so nerion's threadpool patch (for node-llama-cpp 3.21.1) does not apply — reinstall it with \`${REINSTALL.join(' ')}\`; nothing was changed.`,
        { fix: { command: [...REINSTALL] }, data: { file: join(packageDirectory, 'llama', shown), patchFile } },
      ),
  });
}

/**
 * Applies nerion's fix to ggml's AMX tile configuration (`amxTileConfigPatchFile`) to node-llama-cpp's
 * unpacked llama.cpp source (`llama/llama.cpp`, unpacked from its bundle). A source that does not fit (another
 * release unpacked there) is BUILD_FAILED with node-llama-cpp's command that unpacks `release` from the bundle
 * again; nothing is changed.
 */
export function applyLlamaCppPatch(
  packageDirectory: string,
  release: string,
  patchFile: string = amxTileConfigPatchFile(),
): AppliedSourcePatch {
  const unpack = [
    'npx',
    '--no',
    'node-llama-cpp',
    'source',
    'download',
    '--release',
    release,
    '--skipBuild',
    '--gpu',
    'false',
  ];
  return applySourcePatch({
    root: join(packageDirectory, 'llama', 'llama.cpp'),
    patchFile,
    shownRoot: 'llama.cpp',
    mismatch: (shown, why) =>
      new NerionError(
        'BUILD_FAILED',
        `node-llama-cpp's unpacked llama.cpp source llama/${shown} ${why}, so nerion's AMX fix (for llama.cpp ${release}, the bundled release) does not apply — unpack the bundled release again with \`${unpack.join(' ')}\` and run \`nerion doctor --build-llama\` again; nothing was changed.`,
        { fix: { command: unpack }, data: { file: join(packageDirectory, 'llama', shown), patchFile } },
      ),
  });
}

/** What `usePrebuiltCpuKernels` did: the kernel libraries it put in place, or why it left the local ones. */
export interface CpuKernelsReport {
  copied: readonly string[];
  /** Set when the locally compiled kernels were kept. */
  keptLocal?: string;
}

/**
 * node-llama-cpp's prebuilt CPU kernels (`libggml-cpu-*`) that can stand in for a build of `release`: those of
 * its prebuilt package for this platform when that was built from the same llama.cpp release; else why not.
 */
export function prebuiltCpuKernels(options: {
  packageDirectory: string;
  release: string;
  prebuiltDirectory?: string;
}): { directory: string; kernels: readonly string[] } | { keptLocal: string } {
  const prebuilt = options.prebuiltDirectory ?? prebuiltBinariesDirectory(options.packageDirectory);
  if (prebuilt === undefined) return { keptLocal: 'no prebuilt CPU binaries for this platform' };
  let release: unknown;
  try {
    const metadata = JSON.parse(readFileSync(join(prebuilt, '_nlcBuildMetadata.json'), 'utf8')) as {
      buildOptions?: { llamaCpp?: { release?: unknown } };
    };
    release = metadata.buildOptions?.llamaCpp?.release;
  } catch (error) {
    return { keptLocal: `the prebuilt binaries' metadata could not be read (${describeError(error)})` };
  }
  if (release !== options.release)
    return { keptLocal: `the prebuilt binaries are llama.cpp ${String(release)}, the build is ${options.release}` };
  const kernels = readdirSync(prebuilt).filter((file) => /^libggml-cpu-[\w.]+\.(so|dylib|dll)$/.test(file));
  if (kernels.length === 0) return { keptLocal: 'the prebuilt binaries have no separate CPU kernels' };
  return { directory: prebuilt, kernels };
}

/**
 * Puts node-llama-cpp's own prebuilt CPU kernels (`libggml-cpu-*.so`, the dynamically loaded CPU variants)
 * into the local build's folder in place of the locally compiled ones, when the prebuilt package for this
 * platform has them and was built from the same llama.cpp release. The build then differs from the prebuilt
 * binaries by the addon patch alone, and a local compiler cannot change the kernels (GCC 12.2 compiles
 * llama.cpp's unpatched AMX kernel into code that dies with SIGILL; the build applies the fix, but kernels
 * compiled here are used only where there are no prebuilt ones: decision 0005). Each file is copied under a
 * temporary name and renamed, so a kernel is never half-written.
 */
export function usePrebuiltCpuKernels(options: {
  packageDirectory: string;
  release: string;
  /** The local build's library folder (`llama/localBuilds/<name>/Release`). */
  buildDirectory: string;
  /** The prebuilt binaries' folder (default: node-llama-cpp's package for this platform). */
  prebuiltDirectory?: string;
}): CpuKernelsReport {
  const found = prebuiltCpuKernels(options);
  return 'keptLocal' in found
    ? { copied: [], keptLocal: found.keptLocal }
    : copyCpuKernels(found, options.buildDirectory);
}

/** Copies `found`'s kernels into `buildDirectory`, each under a temporary name and then renamed. */
function copyCpuKernels(
  found: { directory: string; kernels: readonly string[] },
  buildDirectory: string,
): CpuKernelsReport {
  const { directory: prebuilt, kernels } = found;
  for (const file of kernels) {
    const target = join(buildDirectory, file);
    const partial = `${target}.nerion-partial`;
    try {
      copyFileSync(join(prebuilt, file), partial);
      renameSync(partial, target);
    } catch (error) {
      rmSync(partial, { force: true });
      // Each kernel in place is whole (prebuilt or local), so the build still loads; say how to go back anyway.
      throw new NerionError(
        'BUILD_FAILED',
        `Copying node-llama-cpp's prebuilt CPU kernel ${file} into ${buildDirectory} failed (${describeError(error)}) — free the space or fix the permissions and run \`nerion doctor --build-llama\` again; NERION_LLAMA_BUILD=prebuilt uses the prebuilt binaries meanwhile.`,
        { cause: error, fix: { settings: ['NERION_LLAMA_BUILD'], command: ['nerion', 'doctor', '--build-llama'] } },
      );
    }
  }
  return { copied: kernels };
}

/** node-llama-cpp's CPU-only prebuilt binaries folder for this platform, if installed. */
export function prebuiltBinariesDirectory(packageDirectory: string = nodeLlamaCppDirectory()): string | undefined {
  const platform = process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform;
  const name = `${platform}-${process.arch}`;
  try {
    const entry = createRequire(join(packageDirectory, 'package.json')).resolve(`@node-llama-cpp/${name}`);
    const folder = join(dirname(dirname(entry)), 'bins', name);
    return existsSync(folder) ? folder : undefined;
  } catch {
    return undefined;
  }
}

/** The folder node-llama-cpp's last `source build` wrote (its `llama/lastBuild.json`), with the libraries. */
function lastBuildDirectory(packageDirectory: string): string | undefined {
  try {
    const { folderName } = JSON.parse(readFileSync(join(packageDirectory, 'llama', 'lastBuild.json'), 'utf8')) as {
      folderName?: unknown;
    };
    if (typeof folderName !== 'string' || folderName.includes('/') || folderName.includes('\\')) return undefined;
    const folder = join(packageDirectory, 'llama', 'localBuilds', folderName, 'Release');
    return existsSync(folder) ? folder : undefined;
  } catch {
    return undefined;
  }
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
      { fix: { command: [...REINSTALL] }, data: { packageDirectory } },
    );
  let release: string;
  try {
    release = String((JSON.parse(readFileSync(infoFile, 'utf8')) as { release?: unknown }).release);
  } catch (error) {
    throw new NerionError(
      'BUILD_FAILED',
      `${infoFile} could not be read (${describeError(error)}) — reinstall node-llama-cpp (\`npm i -E node-llama-cpp@3.21.1\`).`,
      { fix: { command: [...REINSTALL] }, cause: error },
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
  /** The addon patch (default: the one shipped with this package). */
  patchFile?: string;
  /** The patch to llama.cpp's source (default: `amxTileConfigPatchFile()`). */
  llamaCppPatchFile?: string;
  /** The build's library folder (default: from node-llama-cpp's `llama/lastBuild.json`); tests name one. */
  buildDirectory?: string;
  /** node-llama-cpp's prebuilt binaries folder (default: its package for this platform); tests name one. */
  prebuiltDirectory?: string;
  /** Told which CPU kernels the build uses (`usePrebuiltCpuKernels`). */
  onKernels?: (report: CpuKernelsReport) => void;
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
    // Decided once, before the build: whether node-llama-cpp's prebuilt kernels will replace the compiled ones
    // (then the AMX fix is not needed) — and after it, the same answer says which kernels the build keeps.
    const prebuiltKernels = prebuiltCpuKernels({
      packageDirectory: prerequisites.packageDirectory,
      release: prerequisites.release,
      ...(options.prebuiltDirectory === undefined ? {} : { prebuiltDirectory: options.prebuiltDirectory }),
    });
    const patches: AppliedSourcePatch[] = [];
    const logApplied = (file: string, applied: AppliedSourcePatch) => {
      patches.push(applied);
      log.write(
        `nerion: applied ${file} to ${applied.files.join(', ')}${applied.alreadyApplied ? ' (already in place)' : ''}\n`,
      );
    };
    try {
      const addonPatch = options.patchFile ?? addonPatchFile();
      logApplied(addonPatch, applyAddonPatch(prerequisites.packageDirectory, addonPatch));
      const llamaCppPatch = options.llamaCppPatchFile ?? amxTileConfigPatchFile();
      if ('keptLocal' in prebuiltKernels)
        logApplied(
          llamaCppPatch,
          applyLlamaCppPatch(prerequisites.packageDirectory, prerequisites.release, llamaCppPatch),
        );
      else
        log.write(
          `nerion: ${llamaCppPatch} not applied: node-llama-cpp's prebuilt CPU kernels replace the compiled ones\n`,
        );
      await runStep(options, log, env, [cli, 'source', 'build', '--gpu', 'false', '--noUsageExample']);
    } finally {
      for (const applied of patches.reverse()) applied.restore();
      if (patches.length > 0)
        log.write(
          `nerion: restored the original sources (${patches.flatMap((applied) => applied.files).join(', ')})\n`,
        );
    }
    // A stand-in CLI (tests) builds nothing: only a folder the caller names is touched then.
    const buildDirectory =
      options.buildDirectory ??
      (options.cliPath === undefined ? lastBuildDirectory(prerequisites.packageDirectory) : undefined);
    const kernels: CpuKernelsReport =
      buildDirectory === undefined
        ? { copied: [], keptLocal: 'the build folder was not found (llama/lastBuild.json)' }
        : 'keptLocal' in prebuiltKernels
          ? { copied: [], keptLocal: prebuiltKernels.keptLocal }
          : copyCpuKernels(prebuiltKernels, buildDirectory);
    log.write(
      kernels.keptLocal === undefined
        ? `nerion: using node-llama-cpp's prebuilt CPU kernels (${kernels.copied.join(', ')}) in ${buildDirectory}\n`
        : `nerion: kept the locally compiled CPU kernels: ${kernels.keptLocal}\n`,
    );
    options.onKernels?.(kernels);
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

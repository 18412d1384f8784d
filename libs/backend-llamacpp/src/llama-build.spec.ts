/**
 * The opt-in llama.cpp build (issue #16). The real build compiles for 10–60 minutes, so these tests run
 * buildLlamaCpp against a stand-in for node-llama-cpp's CLI: a real Node script, run as a real child process
 * in its own process group, that prints what ninja prints and starts a long-lived "compiler" of its own.
 * The prerequisite checks run real `cmake --version` / `c++ --version` through a PATH the test controls.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { NerionError, isProcessAlive } from '@nerion/backend-core';
import {
  ADDON_PATCH_ID,
  addonPatchFile,
  amxTileConfigPatchFile,
  applyAddonPatch,
  applyLlamaCppPatch,
  buildLlamaCpp,
  checkBuildPrerequisites,
  llamaBuildCmakeOptions,
  llamaBuildGetLlamaOptions,
  parseBuildProgress,
  usePrebuiltCpuKernels,
  type BuildPrerequisites,
} from './llama-build.js';
import { llamaBindingsInUse } from './llama-runtime.js';
import { nodeLlamaCppDirectory } from './llama-build.js';

/** The real addon sources of the installed node-llama-cpp, which the patch must fit. */
const REAL_ADDON = join(nodeLlamaCppDirectory(), 'llama', 'addon');
const ADDON_FILES = ['AddonContext.cpp', 'AddonContext.h'];
/** The llama.cpp file the AMX fix patches, relative to the llama.cpp source. */
const MMQ = join('ggml', 'src', 'ggml-cpu', 'amx', 'mmq.cpp');
const AMX_FIXED = 'alignas(64) static const tile_config_t tc = [] {';

/**
 * The bundled llama.cpp release's mmq.cpp, read from node-llama-cpp's own bundle with git (a local fetch, no
 * network): node-llama-cpp unpacks its source only when a build asks, so a fresh install has just the bundle.
 */
let bundledMmq: string;
beforeAll(() => {
  const scratch = mkdtempSync(join(tmpdir(), 'nerion-llama-bundle-'));
  try {
    execFileSync('git', ['init', '-q', '--bare', scratch]);
    execFileSync('git', [
      '-C',
      scratch,
      'fetch',
      '-q',
      join(nodeLlamaCppDirectory(), 'llama', 'gitRelease.bundle'),
      'HEAD',
    ]);
    bundledMmq = execFileSync('git', ['-C', scratch, 'show', `FETCH_HEAD:${MMQ}`], {
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}, 120_000);

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'nerion-llama-build-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function fakePackage(options: { bundle?: boolean; unpacked?: boolean; addon?: boolean } = {}): string {
  const packageDirectory = join(directory, 'node-llama-cpp');
  mkdirSync(join(packageDirectory, 'llama'), { recursive: true });
  if (options.bundle !== false) {
    writeFileSync(join(packageDirectory, 'llama', 'gitRelease.bundle'), 'bundle');
    writeFileSync(join(packageDirectory, 'llama', 'binariesGithubRelease.json'), '{"release":"v9.9.9"}');
  }
  if (options.addon !== false) {
    mkdirSync(join(packageDirectory, 'llama', 'addon'), { recursive: true });
    for (const name of ADDON_FILES)
      writeFileSync(join(packageDirectory, 'llama', 'addon', name), readFileSync(join(REAL_ADDON, name)));
  }
  // node-llama-cpp's unpacked source (only the file the AMX fix patches); `.git` and the info file say "unpacked"
  mkdirSync(dirname(join(packageDirectory, 'llama', 'llama.cpp', MMQ)), { recursive: true });
  writeFileSync(join(packageDirectory, 'llama', 'llama.cpp', MMQ), bundledMmq);
  if (options.unpacked) {
    mkdirSync(join(packageDirectory, 'llama', 'llama.cpp', '.git'), { recursive: true });
    writeFileSync(join(packageDirectory, 'llama', 'llama.cpp.info.json'), '{}');
  }
  return packageDirectory;
}

/** An environment whose PATH holds only the named tools (links to the real ones). */
function pathWith(tools: readonly string[]): NodeJS.ProcessEnv {
  const bin = join(directory, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of tools) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    symlinkSync(real, join(bin, tool));
  }
  return { PATH: bin };
}

/** The stand-in CLI: logs its argv and the CMake options it was given, prints ninja lines, exits as told. */
function standInCli(options: { exitCode?: number; hang?: boolean } = {}): string {
  const script = join(directory, 'stand-in-cli.mjs');
  writeFileSync(
    script,
    `import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
const options = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('NODE_LLAMA_CPP_CMAKE_OPTION_')));
const addon = ${JSON.stringify(join(directory, 'node-llama-cpp', 'llama', 'addon', 'AddonContext.cpp'))};
const patched = existsSync(addon) && readFileSync(addon, 'utf8').includes('attachThreadpool');
const mmq = ${JSON.stringify(join(directory, 'node-llama-cpp', 'llama', 'llama.cpp', MMQ))};
const amxFixed = existsSync(mmq) && readFileSync(mmq, 'utf8').includes(${JSON.stringify(AMX_FIXED)});
appendFileSync(${JSON.stringify(join(directory, 'calls.jsonl'))}, JSON.stringify({ argv: process.argv.slice(2), options, patched, amxFixed }) + '\\n');
if (process.argv[3] === 'download') { console.log('Cloned ggml-org/llama.cpp (local bundle)'); process.exit(0); }
for (let i = 1; i <= 4; i += 1) console.log('[' + i + '/4] Building CXX object src/file' + i + '.cpp.o');
${
  options.hang
    ? `const compiler = spawn('sleep', ['60'], { stdio: 'ignore' });
appendFileSync(${JSON.stringify(join(directory, 'compiler.pid'))}, String(compiler.pid));
setInterval(() => {}, 1000);`
    : `console.error('ninja: build stopped: subcommand failed.');
process.exit(${options.exitCode ?? 0});`
}
`,
  );
  chmodSync(script, 0o755);
  return script;
}

type Call = { argv: string[]; options: Record<string, string>; patched: boolean; amxFixed: boolean };
function calls(): Call[] {
  const file = join(directory, 'calls.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Call);
}

const prerequisites = (packageDirectory: string): BuildPrerequisites => ({
  packageDirectory,
  release: 'v9.9.9',
  cmake: 'cmake',
  compiler: 'c++',
});

describe('parseBuildProgress', () => {
  it("reads ninja's [done/total] and make's [ NN%] lines, and nothing else", () => {
    expect(parseBuildProgress('[12/277] Building CXX object llama.cpp/src/llama.cpp.o')).toEqual({
      fraction: 12 / 277,
      step: 'Building CXX object llama.cpp/src/llama.cpp.o',
    });
    expect(parseBuildProgress('[ 45%] Linking CXX shared library libllama.so')?.fraction).toBe(0.45);
    expect(parseBuildProgress('[100%] Built target llama-addon')?.fraction).toBe(1);
    expect(parseBuildProgress('-- Configuring done')).toBeUndefined();
    expect(parseBuildProgress('[3/2] impossible')).toBeUndefined();
    expect(parseBuildProgress('[250%] impossible')).toBeUndefined();
  });
});

describe('the build options', () => {
  it("build in the prebuilt binaries' configuration (no OpenMP, every CPU variant), named after the patch", () => {
    const prebuiltLike = {
      GGML_OPENMP: 'OFF',
      GGML_NATIVE: 'OFF',
      GGML_CPU_ALL_VARIANTS: 'ON',
      GGML_BACKEND_DL: 'ON',
      NERION_ADDON_PATCH: ADDON_PATCH_ID,
    };
    expect(llamaBuildCmakeOptions('x64', 'linux')).toEqual(prebuiltLike);
    expect(llamaBuildCmakeOptions('arm64', 'darwin')).toEqual(prebuiltLike);
    // where llama.cpp has no CPU variants (as node-llama-cpp's CI): one portable CPU backend, loaded dynamically
    expect(llamaBuildCmakeOptions('arm64', 'win32')).toEqual({
      GGML_OPENMP: 'OFF',
      GGML_NATIVE: 'OFF',
      GGML_BACKEND_DL: 'ON',
      NERION_ADDON_PATCH: ADDON_PATCH_ID,
    });
  });

  it('never let node-llama-cpp build from source on its own, and ask for nerion’s build only under auto', () => {
    expect(llamaBuildGetLlamaOptions('prebuilt')).toEqual({ build: 'never' });
    expect(llamaBuildGetLlamaOptions('auto')).toEqual({ build: 'never', cmakeOptions: llamaBuildCmakeOptions() });
  });

  it('NERION_LLAMA_BUILD=prebuilt loads the prebuilt binaries (real node-llama-cpp)', async () => {
    await expect(llamaBindingsInUse('prebuilt')).resolves.toBe('prebuilt');
  }, 300_000);
});

describe('applyLlamaCppPatch (the AMX fix on the bundled llama.cpp release)', () => {
  const mmqFile = () => join(directory, 'node-llama-cpp', 'llama', 'llama.cpp', MMQ);

  it('fits the bundled release: the tile configuration becomes a constant, and restore() puts back the same bytes', () => {
    const packageDirectory = fakePackage();
    const applied = applyLlamaCppPatch(packageDirectory, 'v0.4.0');
    expect(applied).toMatchObject({ files: ['llama.cpp/ggml/src/ggml-cpu/amx/mmq.cpp'], alreadyApplied: false });
    const fixed = readFileSync(mmqFile(), 'utf8');
    expect(bundledMmq).toContain('    alignas(64) tile_config_t tc = {};\n');
    expect(fixed).not.toContain('    alignas(64) tile_config_t tc = {};\n');
    expect(fixed).toContain(AMX_FIXED);
    expect(fixed).toContain('_tile_loadconfig(&tc);');
    applied.restore();
    expect(readFileSync(mmqFile(), 'utf8')).toBe(bundledMmq);
  });

  it('a source left fixed by an interrupted build is recognised, and restored to the original', () => {
    const packageDirectory = fakePackage();
    applyLlamaCppPatch(packageDirectory, 'v0.4.0');
    const again = applyLlamaCppPatch(packageDirectory, 'v0.4.0');
    expect(again.alreadyApplied).toBe(true);
    again.restore();
    expect(readFileSync(mmqFile(), 'utf8')).toBe(bundledMmq);
  });

  it('another release unpacked there changes nothing and names the command that unpacks the bundled one', () => {
    const packageDirectory = fakePackage();
    writeFileSync(mmqFile(), '// another release\n');
    const error = thrownBy(() => applyLlamaCppPatch(packageDirectory, 'v0.4.0'));
    expect(NerionError.hasCode(error, 'BUILD_FAILED')).toBe(true);
    expect((error as NerionError).message).toMatch(
      /llama\/llama\.cpp\/ggml\/src\/ggml-cpu\/amx\/mmq\.cpp is not the one the patch was written for.*llama\.cpp v0\.4\.0.*nothing was changed/,
    );
    expect((error as NerionError).fix?.command).toEqual(
      'npx --no node-llama-cpp source download --release v0.4.0 --skipBuild --gpu false'.split(' '),
    );
    expect(readFileSync(mmqFile(), 'utf8')).toBe('// another release\n');
  });
});

describe('applyAddonPatch (the real patch on copies of the installed addon sources)', () => {
  const addonFile = (name: string) => join(directory, 'node-llama-cpp', 'llama', 'addon', name);
  const originals = () => ADDON_FILES.map((name) => readFileSync(addonFile(name), 'utf8'));

  it('fits the installed node-llama-cpp: patches both files, and restore() puts back the same bytes', () => {
    const packageDirectory = fakePackage();
    const before = originals();
    const applied = applyAddonPatch(packageDirectory);
    expect(applied).toMatchObject({ files: ['addon/AddonContext.cpp', 'addon/AddonContext.h'], alreadyApplied: false });
    const cpp = readFileSync(addonFile('AddonContext.cpp'), 'utf8');
    expect(cpp).toContain('llama_attach_threadpool(ctx, created, created);');
    expect(cpp).toContain('ggml_backend_reg_get_proc_address(cpuRegistry, "ggml_threadpool_new")');
    expect(readFileSync(addonFile('AddonContext.h'), 'utf8')).toContain('ggml_threadpool_t threadpool = nullptr;');
    applied.restore();
    expect(originals()).toEqual(before);
  });

  it('sources left patched by an interrupted build are recognised, and still restored to the original', () => {
    const packageDirectory = fakePackage();
    const before = originals();
    applyAddonPatch(packageDirectory); // never restored: the build "crashed"
    const again = applyAddonPatch(packageDirectory);
    expect(again.alreadyApplied).toBe(true);
    again.restore();
    expect(originals()).toEqual(before);
  });

  it('a source the patch was not written for changes nothing and names the reinstall', () => {
    const packageDirectory = fakePackage();
    writeFileSync(addonFile('AddonContext.h'), '#pragma once\n// another node-llama-cpp version\n');
    const cppBefore = readFileSync(addonFile('AddonContext.cpp'), 'utf8');
    const error = thrownBy(() => applyAddonPatch(packageDirectory));
    expect(NerionError.hasCode(error, 'BUILD_FAILED')).toBe(true);
    expect((error as NerionError).message).toMatch(
      /llama\/addon\/AddonContext\.h is not the one the patch was written for.*npm i -E node-llama-cpp@3\.21\.1.*nothing was changed/,
    );
    expect((error as NerionError).fix?.command).toEqual(['npm', 'i', '-E', 'node-llama-cpp@3.21.1']);
    // the .cpp would have applied, but nothing is written unless every file fits
    expect(readFileSync(addonFile('AddonContext.cpp'), 'utf8')).toBe(cppBefore);
  });

  it('is shipped with the package (listed in its files)', () => {
    expect(existsSync(amxTileConfigPatchFile())).toBe(true);
    expect(existsSync(addonPatchFile())).toBe(true);
    const manifest = JSON.parse(readFileSync(join(REAL_ADDON, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(manifest.version).toBe('3.21.1');
    const ours = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[] };
    expect(ours.files).toContain('patches');
  });
});

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** A prebuilt folder (metadata for `release`, two CPU kernels, a library) and a local build folder. */
function kernelFolders(release = 'v9.9.9'): { prebuilt: string; build: string } {
  const prebuilt = join(directory, 'prebuilt');
  const build = join(directory, 'build', 'Release');
  mkdirSync(prebuilt, { recursive: true });
  mkdirSync(build, { recursive: true });
  writeFileSync(join(prebuilt, '_nlcBuildMetadata.json'), JSON.stringify({ buildOptions: { llamaCpp: { release } } }));
  writeFileSync(join(prebuilt, 'libggml-cpu-haswell.so'), 'prebuilt haswell');
  writeFileSync(join(prebuilt, 'libggml-cpu-sapphirerapids.so'), 'prebuilt sapphirerapids');
  writeFileSync(join(prebuilt, 'libllama.v0.4.0.so'), 'prebuilt llama');
  writeFileSync(join(build, 'libggml-cpu-sapphirerapids.so'), 'local sapphirerapids');
  writeFileSync(join(build, 'libllama.v0.4.0.abc.so'), 'local llama');
  return { prebuilt, build };
}

describe('usePrebuiltCpuKernels', () => {
  it('puts the prebuilt CPU kernels of the same release in place of the local ones, and nothing else', () => {
    const { prebuilt, build } = kernelFolders();
    const report = usePrebuiltCpuKernels({
      packageDirectory: fakePackage(),
      release: 'v9.9.9',
      buildDirectory: build,
      prebuiltDirectory: prebuilt,
    });
    expect(report).toEqual({ copied: ['libggml-cpu-haswell.so', 'libggml-cpu-sapphirerapids.so'] });
    expect(readFileSync(join(build, 'libggml-cpu-sapphirerapids.so'), 'utf8')).toBe('prebuilt sapphirerapids');
    expect(readFileSync(join(build, 'libggml-cpu-haswell.so'), 'utf8')).toBe('prebuilt haswell');
    expect(readFileSync(join(build, 'libllama.v0.4.0.abc.so'), 'utf8')).toBe('local llama');
    expect(existsSync(join(build, 'libllama.v0.4.0.so'))).toBe(false);
  });

  it('keeps the local kernels, untouched, for another release or unreadable metadata', () => {
    const { prebuilt, build } = kernelFolders('v0.3.0');
    const other = usePrebuiltCpuKernels({
      packageDirectory: fakePackage(),
      release: 'v9.9.9',
      buildDirectory: build,
      prebuiltDirectory: prebuilt,
    });
    expect(other).toEqual({ copied: [], keptLocal: 'the prebuilt binaries are llama.cpp v0.3.0, the build is v9.9.9' });
    expect(readFileSync(join(build, 'libggml-cpu-sapphirerapids.so'), 'utf8')).toBe('local sapphirerapids');
    const missing = usePrebuiltCpuKernels({
      packageDirectory: fakePackage(),
      release: 'v9.9.9',
      buildDirectory: build,
      prebuiltDirectory: join(directory, 'nowhere'),
    });
    expect(missing.keptLocal).toMatch(/metadata could not be read/);
    expect(missing.copied).toEqual([]);
  });

  it('a kernel that cannot be written is BUILD_FAILED naming the way back, and leaves no partial file', () => {
    const { prebuilt, build } = kernelFolders();
    // a non-empty folder where the kernel should go: the rename onto it fails after the copy
    rmSync(join(build, 'libggml-cpu-sapphirerapids.so'));
    mkdirSync(join(build, 'libggml-cpu-sapphirerapids.so', 'in-the-way'), { recursive: true });
    const error = thrownBy(() =>
      usePrebuiltCpuKernels({
        packageDirectory: fakePackage(),
        release: 'v9.9.9',
        buildDirectory: build,
        prebuiltDirectory: prebuilt,
      }),
    );
    expect(NerionError.hasCode(error, 'BUILD_FAILED')).toBe(true);
    expect((error as NerionError).message).toMatch(
      /libggml-cpu-sapphirerapids\.so .*failed.*nerion doctor --build-llama.*NERION_LLAMA_BUILD=prebuilt/,
    );
    expect(readdirSync(build).filter((file) => file.endsWith('.nerion-partial'))).toEqual([]);
  });

  (process.platform === 'linux' && process.arch === 'x64' ? it : it.skip)(
    "finds the installed node-llama-cpp's prebuilt kernels for the bundled release (real package)",
    () => {
      const packageDirectory = nodeLlamaCppDirectory();
      const { release } = JSON.parse(
        readFileSync(join(packageDirectory, 'llama', 'binariesGithubRelease.json'), 'utf8'),
      ) as { release: string };
      const build = join(directory, 'Release');
      mkdirSync(build);
      const report = usePrebuiltCpuKernels({ packageDirectory, release, buildDirectory: build });
      expect(report.keptLocal).toBeUndefined();
      expect(report.copied).toEqual(expect.arrayContaining(['libggml-cpu-x64.so', 'libggml-cpu-haswell.so']));
      expect(readFileSync(join(build, 'libggml-cpu-x64.so')).length).toBeGreaterThan(100_000);
    },
  );
});

describe('checkBuildPrerequisites', () => {
  it('finds the bundle, cmake and a compiler on this machine', () => {
    const found = checkBuildPrerequisites({ packageDirectory: fakePackage(), env: pathWith(['cmake', 'c++']) });
    expect(found).toMatchObject({ release: 'v9.9.9', cmake: 'cmake', compiler: 'c++' });
  });

  it('refuses without cmake, naming it and the install command, instead of letting node-llama-cpp download it', () => {
    let error: unknown;
    try {
      checkBuildPrerequisites({ packageDirectory: fakePackage(), env: pathWith(['c++']) });
    } catch (caught) {
      error = caught;
    }
    expect(NerionError.hasCode(error, 'BUILD_FAILED')).toBe(true);
    const failure = error as NerionError;
    expect(failure.message).toMatch(/needs cmake on PATH/);
    expect(failure.message).not.toMatch(/compiler/);
    expect(failure.fix?.command).toEqual(['sudo', 'apt-get', 'install', 'cmake', 'g++']);
  });

  it('refuses without a compiler or cmake, naming both', () => {
    expect(() => checkBuildPrerequisites({ packageDirectory: fakePackage(), env: pathWith([]) })).toThrow(
      /needs cmake and a C\+\+ compiler \(g\+\+ or clang\+\+\) on PATH/,
    );
  });

  it('refuses a node-llama-cpp without its bundled source (it would clone from GitHub)', () => {
    expect(() =>
      checkBuildPrerequisites({ packageDirectory: fakePackage({ bundle: false }), env: pathWith(['cmake', 'c++']) }),
    ).toThrow(/no bundled llama\.cpp source .*npm i -E node-llama-cpp@3\.21\.1.*never from the network/);
  });
});

describe('buildLlamaCpp (stand-in for node-llama-cpp’s CLI)', () => {
  it('unpacks the bundle first when needed, builds patched with nerion’s options, restores the sources, logs everything', async () => {
    const packageDirectory = fakePackage();
    const logFile = join(directory, 'build.log');
    const progress: number[] = [];
    const phases: string[] = [];
    await buildLlamaCpp({
      prerequisites: prerequisites(packageDirectory),
      logFile,
      env: { PATH: process.env.PATH },
      cliPath: standInCli(),
      onProgress: (fraction) => progress.push(fraction),
      onPhase: (phase) => phases.push(phase),
    });
    expect(phases).toEqual(['source', 'build']);
    expect(calls().map((call) => call.argv.slice(0, 2))).toEqual([
      ['source', 'download'],
      ['source', 'build'],
    ]);
    expect(calls()[0].argv).toEqual(expect.arrayContaining(['--release', 'v9.9.9', '--skipBuild', '--gpu', 'false']));
    expect(calls()[1].argv).toEqual(expect.arrayContaining(['--gpu', 'false']));
    expect(calls()[1].options).toMatchObject({
      NODE_LLAMA_CPP_CMAKE_OPTION_GGML_OPENMP: 'OFF',
      NODE_LLAMA_CPP_CMAKE_OPTION_GGML_BACKEND_DL: 'ON',
      NODE_LLAMA_CPP_CMAKE_OPTION_NERION_ADDON_PATCH: ADDON_PATCH_ID,
    });
    // patched while node-llama-cpp builds, not while it unpacks; the original afterwards
    expect(calls().map((call) => call.patched)).toEqual([false, true]);
    expect(calls().map((call) => call.amxFixed)).toEqual([false, true]);
    expect(readFileSync(join(packageDirectory, 'llama', 'addon', 'AddonContext.cpp'), 'utf8')).toBe(
      readFileSync(join(REAL_ADDON, 'AddonContext.cpp'), 'utf8'),
    );
    expect(readFileSync(join(packageDirectory, 'llama', 'llama.cpp', MMQ), 'utf8')).toBe(bundledMmq);
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('Cloned ggml-org/llama.cpp (local bundle)');
    expect(log).toContain('[4/4] Building CXX object src/file4.cpp.o');
    expect(log).toMatch(
      /nerion: applied \S+\/patches\/node-llama-cpp-3\.21\.1-threadpool\.patch to addon\/AddonContext\.cpp, addon\/AddonContext\.h\n/,
    );
    expect(log).toMatch(
      /nerion: applied \S+\/patches\/llama\.cpp-v0\.4\.0-amx-tile-config\.patch to llama\.cpp\/ggml\/src\/ggml-cpu\/amx\/mmq\.cpp\n/,
    );
    expect(log).toContain(
      'nerion: restored the original sources (llama.cpp/ggml/src/ggml-cpu/amx/mmq.cpp, addon/AddonContext.cpp, addon/AddonContext.h)',
    );
    // a stand-in builds nothing, so no real build folder is looked for
    expect(log).toContain('nerion: kept the locally compiled CPU kernels: the build folder was not found');
  }, 30_000);

  it('with prebuilt kernels of the same release to replace the compiled ones, the AMX fix is not applied', async () => {
    const packageDirectory = fakePackage({ unpacked: true });
    const { prebuilt, build } = kernelFolders();
    const logFile = join(directory, 'build.log');
    await buildLlamaCpp({
      prerequisites: prerequisites(packageDirectory),
      logFile,
      env: { PATH: process.env.PATH },
      cliPath: standInCli(),
      buildDirectory: build,
      prebuiltDirectory: prebuilt,
    });
    expect(calls().map((call) => [call.patched, call.amxFixed])).toEqual([[true, false]]);
    expect(readFileSync(join(build, 'libggml-cpu-sapphirerapids.so'), 'utf8')).toBe('prebuilt sapphirerapids');
    const log = readFileSync(logFile, 'utf8');
    expect(log).toMatch(
      /llama\.cpp-v0\.4\.0-amx-tile-config\.patch not applied: node-llama-cpp's prebuilt CPU kernels replace the compiled ones/,
    );
    expect(log).toContain('nerion: restored the original sources (addon/AddonContext.cpp, addon/AddonContext.h)');
    expect(readFileSync(join(packageDirectory, 'llama', 'llama.cpp', MMQ), 'utf8')).toBe(bundledMmq);
  }, 30_000);

  it('does not unpack the bundle again when the source is there', async () => {
    await buildLlamaCpp({
      prerequisites: prerequisites(fakePackage({ unpacked: true })),
      logFile: join(directory, 'build.log'),
      env: { PATH: process.env.PATH },
      cliPath: standInCli(),
    });
    expect(calls().map((call) => call.argv[1])).toEqual(['build']);
  }, 30_000);

  it('a failed build is BUILD_FAILED naming the log file and the last lines', async () => {
    const logFile = join(directory, 'build.log');
    const failure = buildLlamaCpp({
      prerequisites: prerequisites(fakePackage({ unpacked: true })),
      logFile,
      env: { PATH: process.env.PATH },
      cliPath: standInCli({ exitCode: 2 }),
    });
    await expect(failure).rejects.toMatchObject({ code: 'BUILD_FAILED', data: { logFile, exitCode: 2 } });
    await expect(failure).rejects.toThrow(/exit 2.*ninja: build stopped: subcommand failed\..*build\.log/);
    expect(calls().map((call) => [call.patched, call.amxFixed])).toEqual([[true, true]]);
    expect(readFileSync(join(directory, 'node-llama-cpp', 'llama', 'llama.cpp', MMQ), 'utf8')).toBe(bundledMmq);
    expect(readFileSync(join(directory, 'node-llama-cpp', 'llama', 'addon', 'AddonContext.h'), 'utf8')).toBe(
      readFileSync(join(REAL_ADDON, 'AddonContext.h'), 'utf8'),
    );
  }, 30_000);

  it('an abort stops the whole process group, the compilers included', async () => {
    const controller = new AbortController();
    const pidFile = join(directory, 'compiler.pid');
    const building = buildLlamaCpp({
      prerequisites: prerequisites(fakePackage({ unpacked: true })),
      logFile: join(directory, 'build.log'),
      env: { PATH: process.env.PATH },
      cliPath: standInCli({ hang: true }),
      signal: controller.signal,
      onProgress: (fraction) => {
        if (fraction === 1) setTimeout(() => controller.abort(), 200);
      },
    });
    await expect(building).rejects.toThrow(/stopped; nothing was installed/);
    const compiler = Number(readFileSync(pidFile, 'utf8'));
    expect(compiler).toBeGreaterThan(1);
    const deadline = Date.now() + 5000;
    while (isProcessAlive(compiler) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(isProcessAlive(compiler)).toBe(false);
    // the addon and llama.cpp sources are the original again
    expect(readFileSync(join(directory, 'node-llama-cpp', 'llama', 'addon', 'AddonContext.cpp'), 'utf8')).toBe(
      readFileSync(join(REAL_ADDON, 'AddonContext.cpp'), 'utf8'),
    );
    expect(readFileSync(join(directory, 'node-llama-cpp', 'llama', 'llama.cpp', MMQ), 'utf8')).toBe(bundledMmq);
  }, 30_000);

  it('an unpacked llama.cpp the AMX fix does not fit: nothing is built, and the addon patch is taken out again', async () => {
    const packageDirectory = fakePackage({ unpacked: true });
    writeFileSync(join(packageDirectory, 'llama', 'llama.cpp', MMQ), '// another llama.cpp release\n');
    const failure = buildLlamaCpp({
      prerequisites: prerequisites(packageDirectory),
      logFile: join(directory, 'build.log'),
      env: { PATH: process.env.PATH },
      cliPath: standInCli(),
    });
    await expect(failure).rejects.toMatchObject({ code: 'BUILD_FAILED' });
    await expect(failure).rejects.toThrow(/llama\/llama\.cpp\/ggml\/src\/ggml-cpu\/amx\/mmq\.cpp is not the one/);
    expect(calls()).toEqual([]);
    expect(readFileSync(join(packageDirectory, 'llama', 'addon', 'AddonContext.cpp'), 'utf8')).toBe(
      readFileSync(join(REAL_ADDON, 'AddonContext.cpp'), 'utf8'),
    );
    expect(readFileSync(join(directory, 'build.log'), 'utf8')).toContain(
      'nerion: restored the original sources (addon/AddonContext.cpp, addon/AddonContext.h)',
    );
  }, 30_000);
});

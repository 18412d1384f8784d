/**
 * `nerion doctor --build-llama`: the opt-in llama.cpp build with nerion's threadpool patch to node-llama-cpp's
 * addon (issue #16), on top of
 * @nerion/backend-llamacpp's buildLlamaCpp. This module only asks, shows progress and reports.
 */
import { join } from 'node:path';
import { NerionError } from '@nerion/backend-core';
import type { NerionConfig } from '@nerion/config';
import { askYesNo, formatDuration } from './catalog.js';
import { findLlamaCppModelFile } from './backends/llama-cpp.js';
import { buildToolEnvironment, isInteractive, llamaBuildCliOverride } from './environment.js';

export interface BuildLlamaReport {
  built: boolean;
  logFile?: string;
  seconds?: number;
  bindings?: string;
}

/** A redrawn bar with the step and an ETA on a terminal; a plain line every 10 % otherwise. */
function createBuildProgress(): { update: (fraction: number, step: string | undefined) => void; finish: () => void } {
  const tty = isInteractive(process.stderr);
  const started = Date.now();
  let lastTenth = -1;
  let drawn = false;
  return {
    update(fraction, step) {
      const percent = Math.min(100, fraction * 100);
      const elapsed = (Date.now() - started) / 1000;
      const eta =
        fraction > 0.02 && fraction < 1 ? ` ETA ${formatDuration((elapsed / fraction) * (1 - fraction))}` : '';
      if (tty) {
        const width = 24;
        const filled = Math.round((percent / 100) * width);
        const what = step === undefined ? '' : ` ${step.replace(/^Building \w+ object /, '').slice(0, 48)}`;
        process.stderr.write(
          `\rbuilding llama.cpp [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.toFixed(0).padStart(3)}%${eta}${what}\x1b[K`,
        );
        drawn = true;
        return;
      }
      const tenth = Math.floor(percent / 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      process.stderr.write(`building llama.cpp: ${percent.toFixed(0)}%${eta}\n`);
    },
    finish() {
      if (tty && drawn) process.stderr.write('\n');
    },
  };
}

export async function runBuildLlama(
  config: NerionConfig,
  options: { yes: boolean; log: (line: string) => void },
): Promise<BuildLlamaReport> {
  const engine = await import('@nerion/backend-llamacpp');
  const prerequisites = engine.checkBuildPrerequisites();
  const question =
    `Build llama.cpp ${prerequisites.release} from node-llama-cpp's bundled source, with nerion's threadpool patch ` +
    `to its addon (${prerequisites.cmake}, ${prerequisites.compiler}; 10–60 minutes on all cores, nothing downloaded)? [y/N] `;
  if (!options.yes) {
    if (process.stdin.isTTY !== true || !isInteractive(process.stderr))
      throw new NerionError(
        'CONSENT_REQUIRED',
        'Building llama.cpp compiles for 10–60 minutes on every core; run `nerion doctor --build-llama --yes` to start it without a prompt.',
        { fix: { command: ['nerion', 'doctor', '--build-llama', '--yes'] } },
      );
    if (!(await askYesNo(question))) {
      options.log('Nothing built; llama_cpp keeps using node-llama-cpp’s prebuilt binaries.');
      return { built: false };
    }
  }
  const { mkdir } = await import('node:fs/promises');
  await mkdir(config.cacheDir, { recursive: true });
  const logFile = join(config.cacheDir, 'llama-build.log');
  const progress = createBuildProgress();
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = Date.now();
  let cpuKernels: string | undefined;
  try {
    await engine.buildLlamaCpp({
      prerequisites,
      logFile,
      env: buildToolEnvironment(),
      cliPath: llamaBuildCliOverride(),
      signal: controller.signal,
      onPhase: (phase) => {
        if (phase === 'source') process.stderr.write('unpacking llama.cpp from node-llama-cpp’s bundle…\n');
      },
      onProgress: (fraction, step) => progress.update(fraction, step),
      onKernels: (kernels) => {
        cpuKernels =
          kernels.keptLocal === undefined
            ? `node-llama-cpp's prebuilt CPU kernels (${kernels.copied.length} variants), so it differs from the prebuilt binaries only by the patch`
            : `its own CPU kernels (${kernels.keptLocal})`;
      },
    });
  } finally {
    progress.finish();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  // Proof that the build loads: what the backend loads on the CPU, in this process. (A stand-in CLI, the
  // test seam, installs nothing: there is nothing to load, and the report says so.)
  if (llamaBuildCliOverride() !== undefined) {
    options.log(`Stand-in build finished in ${formatDuration(seconds)} (log: ${logFile}); nothing was installed.`);
    return { built: false, logFile, seconds, bindings: 'stand-in' };
  }
  const bindings = await engine.llamaBindingsInUse('auto');
  if (bindings !== 'localBuild')
    throw new NerionError(
      'BUILD_FAILED',
      `The build finished but node-llama-cpp still loads its ${bindings} binaries — see ${logFile}.`,
      { data: { logFile } },
    );
  if (cpuKernels !== undefined) options.log(`The build uses ${cpuKernels}.`);
  // A test generation in a child process with the configured llama_cpp model: a build that crashes is
  // caught here, not by the next `nerion plan`.
  const modelFile = findLlamaCppModelFile(config.model, config);
  if (modelFile === undefined) {
    options.log(
      `No llama_cpp model is configured for "${config.model}" (LLAMA_CPP_MODEL_PATH, or \`nerion models ensure --backend llama_cpp\`), so no test generation ran; the build loads.`,
    );
  } else {
    const smoke = await engine.smokeTestLlamaBuild({ modelPath: modelFile.path, build: 'auto' });
    if (smoke.bindings !== 'localBuild')
      throw new NerionError(
        'BUILD_FAILED',
        `The test generation ran on node-llama-cpp's ${smoke.bindings} binaries, not the new build — see ${logFile}.`,
        { data: { logFile } },
      );
    options.log(
      `Test generation on the new build: ${smoke.completionTokens} tokens from ${modelFile.path} in ${formatDuration(Math.round(smoke.ms / 1000))} (a child process, 2 threads).`,
    );
  }
  options.log(
    `Built llama.cpp with the threadpool patch in ${formatDuration(seconds)} (log: ${logFile}). llama_cpp now uses it; ` +
      'thread counts are measured again for it on the next load. NERION_LLAMA_BUILD=prebuilt goes back to the prebuilt binaries.',
  );
  return { built: true, logFile, seconds, bindings };
}

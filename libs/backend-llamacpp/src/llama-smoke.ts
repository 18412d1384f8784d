/**
 * A test generation on a llama.cpp build, in a child process: a build that crashes (a bad patch, an
 * instruction the CPU lacks) takes down that child, never the caller, and is reported before anything uses it.
 * `nerion doctor --build-llama` runs it after the build with the configured llama_cpp model, at 2 threads so
 * that the persistent threadpool has a worker.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NerionError, describeError } from '@nerion/backend-core';
import type { LlamaBuildSetting } from './llama-build.js';

export interface SmokeTestResult {
  /** Tokens the test generation produced. */
  completionTokens: number;
  /** The binaries it ran on (`localBuild` or `prebuilt`). */
  bindings: string;
  /** Milliseconds the whole child took (load included). */
  ms: number;
}

export interface SmokeTestOptions {
  modelPath: string;
  build: LlamaBuildSetting;
  /** Default 180 s; the child is killed after it and the test fails. */
  timeoutMs?: number;
  /** The child script (default: this package's `llama-smoke-child.js`); tests name another. */
  script?: string;
}

export function smokeTestLlamaBuild(options: SmokeTestOptions): Promise<SmokeTestResult> {
  const script = options.script ?? join(dirname(fileURLToPath(import.meta.url)), 'llama-smoke-child.js');
  const timeoutMs = options.timeoutMs ?? 180_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [script, JSON.stringify({ modelPath: options.modelPath, build: options.build })],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const failed = (how: string, cause?: unknown) =>
      new NerionError(
        'BUILD_FAILED',
        `The llama.cpp build ${how} on a test generation with ${options.modelPath}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''} — NERION_LLAMA_BUILD=prebuilt goes back to the prebuilt binaries.`,
        { fix: { settings: ['NERION_LLAMA_BUILD'] }, data: { modelPath: options.modelPath }, cause },
      );
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(failed(`could not be tried (${describeError(error)})`, error));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (signal === 'SIGKILL' && ms >= timeoutMs) return reject(failed(`did not finish within ${timeoutMs / 1000} s`));
      if (signal !== null) return reject(failed(`crashed (${signal})`));
      if (code !== 0) return reject(failed(`failed (exit ${String(code)})`));
      try {
        const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Omit<SmokeTestResult, 'ms'>;
        resolve({ completionTokens: result.completionTokens, bindings: result.bindings, ms });
      } catch (error) {
        reject(failed('gave no result', error));
      }
    });
  });
}

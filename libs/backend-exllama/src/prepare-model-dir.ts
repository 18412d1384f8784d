/**
 * NERION_AUTOSTART_EXL: make the catalog's EXL2 build available at `<cacheDir>/models/exl/<model>`.
 * Downloads only with network consent, into a temporary sibling folder renamed into place on success;
 * without consent it fails with CONSENT_REQUIRED carrying the exact command a user would run.
 */
import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NerionError, describeError, shellJoin, type SpawnFunction } from '@nerion/backend-core';
import { exllamaModelDir } from './model-folder.js';

/**
 * The Hugging Face CLI download: `hf download <repo> --revision <branch> --local-dir <dir>`. `hf` is the
 * current name (huggingface_hub 0.34+); the older `huggingface-cli download` took the same arguments and
 * is deprecated — pass `command: ['huggingface-cli', 'download']` for an old installation.
 */
export const DEFAULT_DOWNLOAD_COMMAND: readonly string[] = ['hf', 'download'];

export interface PrepareExllamaModelDirSettings {
  /** The model name (the folder's name under `models/exl/`). */
  model: string;
  /** The Hugging Face repo of the EXL2 build (from the catalog). */
  repo: string;
  /** The branch holding the wanted bits-per-weight (EXL2 repos keep one per branch; `main` often holds only measurement.json). */
  revision?: string;
  /** NERION_CACHE_DIR. */
  cacheDir: string;
  /** Network consent (NERION_ALLOW_NETWORK=1 or --yes). Without it nothing is downloaded. */
  allowNetwork: boolean;
  /** The downloader, split into words (default `hf download`); spawned without a shell. */
  command?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  spawn?: SpawnFunction;
  /** Progress lines (the downloader's output). */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PreparedModelDir {
  modelDir: string;
  status: 'present' | 'downloaded';
  /** The command that was (or would be) run, for logs and `models ensure`. */
  command: readonly string[];
}

/** The exact download command for a user to run (words; join with spaces to print). */
export function exllamaDownloadCommand(
  settings: Pick<PrepareExllamaModelDirSettings, 'repo' | 'revision' | 'command'>,
  localDir: string,
): string[] {
  return [
    ...(settings.command ?? DEFAULT_DOWNLOAD_COMMAND),
    settings.repo,
    ...(settings.revision ? ['--revision', settings.revision] : []),
    '--local-dir',
    localDir,
  ];
}

export async function prepareExllamaModelDir(settings: PrepareExllamaModelDirSettings): Promise<PreparedModelDir> {
  const modelDir = exllamaModelDir(settings.cacheDir, settings.model);
  const userCommand = exllamaDownloadCommand(settings, modelDir);
  if (existsSync(join(modelDir, 'config.json'))) return { modelDir, status: 'present', command: userCommand };
  const printable = shellJoin(userCommand);
  if (!settings.allowNetwork) {
    throw new NerionError(
      'CONSENT_REQUIRED',
      `The exllamav2 model "${settings.model}" is not at ${modelDir}, and downloading ${settings.repo}${settings.revision ? ` (branch ${settings.revision})` : ''} needs network consent: set NERION_ALLOW_NETWORK=1, or run it yourself: ${printable}`,
      {
        data: { modelDir, repo: settings.repo, revision: settings.revision, command: userCommand },
        fix: { settings: ['NERION_ALLOW_NETWORK'], command: userCommand },
      },
    );
  }
  await mkdir(dirname(modelDir), { recursive: true });
  const temporary = `${modelDir}.partial-${process.pid}-${Date.now().toString(36)}`;
  const command = exllamaDownloadCommand(settings, temporary);
  try {
    await run(command, settings);
    if (!existsSync(join(temporary, 'config.json'))) {
      throw new NerionError(
        'DOWNLOAD_FAILED',
        `The download of ${settings.repo}${settings.revision ? `@${settings.revision}` : ''} finished without a config.json — is the revision right? EXL2 repos keep each bits-per-weight on its own branch. Command: ${printable}`,
        {
          data: { repo: settings.repo, revision: settings.revision },
        },
      );
    }
    await rm(join(temporary, '.cache'), { recursive: true, force: true });
    await rename(temporary, modelDir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  return { modelDir, status: 'downloaded', command: userCommand };
}

function run(command: readonly string[], settings: PrepareExllamaModelDirSettings): Promise<void> {
  const spawn = settings.spawn ?? nodeSpawn;
  const [program, ...args] = command as [string, ...string[]];
  const options: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true };
  if (settings.env) options.env = { ...settings.env };
  return new Promise<void>((resolve, reject) => {
    if (settings.signal?.aborted) {
      reject(new NerionError('ABORTED', 'The exllamav2 model download was aborted before it started.'));
      return;
    }
    const child = spawn(program, args, options);
    let tail = '';
    let failure: Error | undefined;
    const onLine = (chunk: Buffer | string): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-2000);
      for (const line of text.split(/[\r\n]+/)) if (line.trim()) settings.onProgress?.(line.trim());
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    const onAbort = (): void => {
      child.kill('SIGTERM');
    };
    settings.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      failure = error;
    });
    child.on('close', (code, signal) => {
      settings.signal?.removeEventListener('abort', onAbort);
      if (settings.signal?.aborted) {
        reject(new NerionError('ABORTED', 'The exllamav2 model download was aborted; the partial folder was removed.'));
      } else if (failure) {
        const missing = (failure as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new NerionError(
            'DOWNLOAD_FAILED',
            missing
              ? `\`${program}\` was not found — install the Hugging Face CLI with \`python3 -m pip install -U huggingface_hub\` (it provides \`hf\`), then try again.`
              : `Could not start \`${program}\`: ${describeError(failure)}.`,
            {
              cause: failure,
              data: { command },
              ...(missing ? { fix: { command: ['python3', '-m', 'pip', 'install', '-U', 'huggingface_hub'] } } : {}),
            },
          ),
        );
      } else if (code !== 0) {
        reject(
          new NerionError(
            'DOWNLOAD_FAILED',
            `\`${command.join(' ')}\` ${signal ? `was killed by ${signal}` : `exited with status ${code}`}: ${tail.trim().split('\n').slice(-3).join(' ')}`,
            {
              data: { command, exitCode: code },
            },
          ),
        );
      } else resolve();
    });
  });
}

/**
 * Autostart of a local vLLM server: `vllm serve <repo> --served-model-name <name> --host 127.0.0.1 --port <port>`,
 * spawned without a shell, detached into its own process group, its output appended to a log file under
 * `<cacheDir>/logs/`, recorded in a pid file under `<cacheDir>/run/` so a second nerion reuses it, and
 * stopped by `stopVllmServers` (what `nerion models stop` runs).
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import {
  NerionError,
  describeError,
  processCommandLine,
  processStartTicks,
  processStartTime,
  type SpawnFunction,
} from '@nerion/backend-core';
import {
  listVllmServers,
  readVllmPidFile,
  removeFile,
  vllmLogDirectory,
  vllmLogFile,
  vllmPidFile,
  vllmRunDirectory,
  whyNotOurs,
  type VllmPidRecord,
  type VllmServerRecord,
} from './pid-file.js';
import { stopProcessGroup } from '@nerion/backend-core';
import { answers, startFailure, waitUntilReady } from './readiness.js';
import { DEFAULT_VLLM_COMMAND, vllmServeArguments, type VllmParallelism } from './serve-arguments.js';
import { serverAddressFromBaseUrl } from './server-address.js';

export const DEFAULT_SERVER_START_TIMEOUT_MS = 600_000;

export interface VllmAutostartSettings {
  /** What `vllm serve` loads: a Hugging Face repo (the catalog's vLLM repo) or a local path. */
  repo: string;
  /** Root of logs and pid files (`<cacheDir>/logs/vllm-<port>.log`, `<cacheDir>/run/vllm-<port>.pid`). */
  cacheDir: string;
  /** The launch command, split into words (default `vllm serve`); the serve arguments are appended. */
  command?: readonly string[];
  /** Tensor, pipeline and data parallel sizes and the distributed executor (typed flags). */
  parallelism?: VllmParallelism;
  /** More arguments for the server, after the standard ones and the parallelism flags (an argv list). */
  extraArgs?: readonly string[];
  /** How long to wait for `/health` and the model in `/v1/models` (default 600 000 ms). */
  startTimeoutMs?: number;
  /** Poll interval for readiness (default 500 ms). */
  pollIntervalMs?: number;
  /** How often the progress callback hears "still waiting" (default 5000 ms). */
  progressIntervalMs?: number;
  /**
   * Leave the server running after close() so the next nerion reuses it (default true; stop it with
   * `nerion models stop`). When false, close() stops a server this backend started.
   */
  keepRunning?: boolean;
  /** Environment for the server process (default: the parent's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Injectable spawn (defaults to node:child_process spawn); always called with an argument array, never a shell. */
  spawn?: SpawnFunction;
}

export interface EnsureVllmServerOptions {
  baseUrl: string;
  model: string;
  autostart: VllmAutostartSettings;
  fetch?: typeof fetch;
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface EnsuredVllmServer {
  /** How the server came to answer: it already did, a recorded server was reused, or nerion started one. */
  outcome: 'already-running' | 'reused' | 'started';
  pid?: number;
  pidFile?: string;
  logFile?: string;
}

/**
 * Makes a vLLM server answer at `baseUrl` with `model`: returns at once when one does; reuses a
 * recorded, still-running autostarted server (waiting for it to finish loading); otherwise starts one
 * and waits for `/health` and the model in `/v1/models`. On failure the child is stopped and the error
 * (SERVER_START_FAILED) carries the log's last lines.
 */
export async function ensureVllmServer(options: EnsureVllmServerOptions): Promise<EnsuredVllmServer> {
  const doFetch = options.fetch ?? fetch;
  const progress = options.progress ?? (() => undefined);
  const address = serverAddressFromBaseUrl(options.baseUrl);
  const root = `${address.protocol}//${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  const settings = options.autostart;
  const pidFile = vllmPidFile(settings.cacheDir, address.port);
  const logFile = vllmLogFile(settings.cacheDir, address.port);
  const timeoutMs = settings.startTimeoutMs ?? DEFAULT_SERVER_START_TIMEOUT_MS;
  const waiting = { root, model: options.model, doFetch, progress, signal: options.signal, timeoutMs, settings };
  /** A running server nerion launched earlier (or another nerion just did): wait until it is ready, then use it. */
  const reuse = async (server: { pid: number; logFile: string }): Promise<EnsuredVllmServer> => {
    await waitUntilReady({ ...waiting, pid: server.pid, logFile: server.logFile, isOurs: false });
    return { outcome: 'reused', pid: server.pid, pidFile, logFile: server.logFile };
  };

  if ((await answers(`${root}/health`, doFetch, 2000)).response?.ok) return { outcome: 'already-running' };

  const existing = readVllmPidFile(pidFile);
  // Reuse only what nerion provably launched; a forged or pre-identity pid file is dropped (never signalled).
  if (existing?.alive && whyNotOurs(existing) === undefined) {
    progress(
      `Reusing the vLLM server nerion started earlier (pid ${existing.pid}, log ${existing.logFile}); waiting until it is ready…`,
    );
    return reuse(existing);
  }
  if (existing) removeFile(pidFile); // stale: the recorded process is gone, or not one nerion launched

  if (!address.isLocal) {
    throw new NerionError(
      'BACKEND_UNREACHABLE',
      `vLLM is not answering at ${root}, and autostart only launches a server on this machine; start vLLM on ${address.host} yourself, or point NERION_VLLM_BASE_URL at localhost.`,
      { data: { baseUrl: root }, fix: { settings: ['NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'] } },
    );
  }
  if (address.protocol === 'https:') {
    throw new NerionError(
      'CONFIG_INVALID',
      `Autostart launches vLLM over plain http, but the vLLM base URL is ${options.baseUrl}; use http://127.0.0.1:${address.port}, or start vLLM with your TLS settings yourself.`,
      { fix: { settings: ['NERION_VLLM_BASE_URL', 'NERION_CODER_BASE_URL'] } },
    );
  }

  const argv = vllmServeArguments(settings.command ?? DEFAULT_VLLM_COMMAND, {
    repo: settings.repo,
    servedModelName: options.model,
    host: '127.0.0.1',
    port: address.port,
    ...(settings.parallelism ? { parallelism: settings.parallelism } : {}),
    extraArgs: settings.extraArgs,
  });
  mkdirSync(vllmLogDirectory(settings.cacheDir), { recursive: true });
  mkdirSync(vllmRunDirectory(settings.cacheDir), { recursive: true });
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    writeSync(
      logFd,
      `\n=== nerion autostart ${new Date().toISOString()}: ${argv.map((word) => JSON.stringify(word)).join(' ')}\n`,
    );
    const spawnFunction: SpawnFunction =
      settings.spawn ?? ((command, args, spawnOptions) => nodeSpawn(command, [...args], spawnOptions));
    child = spawnFunction(argv[0], argv.slice(1), {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      shell: false,
      ...(settings.env ? { env: settings.env } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw startFailure(
      missing
        ? `Cannot run \`${argv[0]}\`: it is not installed or not on PATH. Install vLLM (\`pip install vllm\`) or set NERION_VLLM_COMMAND to how you launch it.`
        : `Cannot start \`${argv.join(' ')}\`: ${describeError(error)}.`,
      logFile,
      { argv },
      error,
      missing ? { settings: ['NERION_VLLM_COMMAND'], command: ['pip', 'install', 'vllm'] } : undefined,
    );
  } finally {
    closeSync(logFd);
  }
  child.unref();
  const pid = child.pid!;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('exit', (code, signal) => (exit = { code, signal }));

  const startTicks = processStartTicks(pid);
  const startTime = startTicks === undefined ? processStartTime(pid) : undefined;
  const cmdline = processCommandLine(pid);
  const record: VllmPidRecord = {
    pid,
    host: '127.0.0.1',
    port: address.port,
    model: options.model,
    repo: settings.repo,
    argv,
    logFile,
    startedAt: new Date().toISOString(),
    baseUrl: root,
    ...(startTicks === undefined ? {} : { startTicks }),
    ...(startTime === undefined ? {} : { startTime }),
    ...(cmdline === undefined ? {} : { cmdline }),
  };
  try {
    writeFileSync(pidFile, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another nerion started one at the same moment: keep theirs, stop ours.
    await stopProcessGroup(pid);
    const theirs = readVllmPidFile(pidFile);
    if (!theirs?.alive)
      throw startFailure(
        `Another nerion raced to start vLLM on port ${address.port} and its server is gone; retry.`,
        logFile,
        { pidFile },
      );
    return reuse(theirs);
  }
  progress(
    `Starting vLLM: ${argv.join(' ')} (pid ${pid}; log ${logFile}; waiting up to ${Math.round(timeoutMs / 1000)} s)`,
  );
  try {
    await waitUntilReady({ ...waiting, pid, logFile, isOurs: true, exited: () => exit });
  } catch (error) {
    await stopProcessGroup(pid);
    removeFile(pidFile);
    throw error;
  }
  return { outcome: 'started', pid, pidFile, logFile };
}

export interface StoppedVllmServer {
  pid: number;
  port: number;
  model: string;
  repo: string;
  pidFile: string;
  logFile: string;
  /** false when the recorded process had already exited (the stale pid file was removed). */
  wasRunning: boolean;
  signal: NodeJS.Signals | undefined;
}

/**
 * Stops the autostarted vLLM servers recorded under `cacheDir` (all, or the one on `port`) and removes their
 * pid files. A record whose process is gone (or whose pid was recycled) is dropped without a signal. A
 * record that names a live process nerion cannot prove it launched (pid ≤ 1, this process, no start
 * time, another command line) is never signalled: after the others are stopped, CACHE_ERROR lists them.
 */
export async function stopVllmServers(options: {
  cacheDir: string;
  port?: number;
  graceMs?: number;
}): Promise<StoppedVllmServer[]> {
  const records = listVllmServers(options.cacheDir).filter(
    (record) => options.port === undefined || record.port === options.port,
  );
  const stopped: StoppedVllmServer[] = [];
  const refused: Array<{ record: VllmServerRecord; reason: string }> = [];
  for (const record of records) {
    // A dead or recycled pid is only a stale file to drop; pid ≤ 1 is refused even then.
    const reason = record.pid <= 1 || record.alive ? whyNotOurs(record) : undefined;
    if (reason !== undefined) {
      refused.push({ record, reason });
      continue;
    }
    const result = record.alive
      ? await stopProcessGroup(record.pid, options.graceMs)
      : { pid: record.pid, signal: undefined };
    removeFile(record.pidFile);
    stopped.push({
      pid: record.pid,
      port: record.port,
      model: record.model,
      repo: record.repo,
      pidFile: record.pidFile,
      logFile: record.logFile,
      wasRunning: record.alive,
      signal: result.signal,
    });
  }
  if (refused.length > 0) {
    const lines = refused.map(
      ({ record, reason }) =>
        `${record.pidFile}: ${reason}. If it is a vLLM server you want stopped, stop it yourself, then delete that file.`,
    );
    const done = stopped.length === 0 ? '' : ` Stopped: ${stopped.map((server) => `pid ${server.pid}`).join(', ')}.`;
    throw new NerionError(
      'CACHE_ERROR',
      `nerion did not signal ${refused.length === 1 ? 'a process' : 'processes'} it cannot prove it started:\n${lines.join('\n')}${done}`,
      {
        data: {
          refused: refused.map(({ record, reason }) => ({ pid: record.pid, pidFile: record.pidFile, reason })),
          stopped: stopped.map((server) => server.pid),
        },
      },
    );
  }
  return stopped;
}

/**
 * Autostart of a local vLLM server: `vllm serve <repo> --served-model-name <name> --host 127.0.0.1 --port <port>`,
 * spawned without a shell, detached into its own process group, its output appended to a log file under
 * `<cacheDir>/logs/`, recorded in a pid file under `<cacheDir>/run/` so a second nerion reuses it, and
 * stopped by `stopVllmServers` (what `nerion models stop` runs).
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { NerionError, describeError } from '@nerion/backend-core';

export const DEFAULT_VLLM_COMMAND: readonly string[] = ['vllm', 'serve'];
export const DEFAULT_SERVER_START_TIMEOUT_MS = 600_000;

export interface ServerAddress {
  protocol: 'http:' | 'https:';
  /** The host as written in the URL (brackets removed from IPv6). */
  host: string;
  /** The port, or the scheme's default (80 for http, 443 for https). */
  port: number;
  /** Whether the host is this machine (localhost, 127.0.0.0/8, ::1, 0.0.0.0): only then can nerion start a server for it. */
  isLocal: boolean;
}

/** Parses the base URL properly (new URL; the scheme's default port when none is written). */
export function serverAddressFromBaseUrl(baseUrl: string): ServerAddress {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (error) {
    throw new NerionError('CONFIG_INVALID', `"${baseUrl}" is not a URL; write it like http://localhost:8000.`, {
      cause: error,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new NerionError('CONFIG_INVALID', `"${baseUrl}" must be an http:// or https:// URL.`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const isLocal = host === 'localhost' || host === '::1' || host === '0.0.0.0' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return { protocol: url.protocol, host, port, isLocal };
}

export interface VllmServeArgumentsInput {
  /** What to serve: a Hugging Face repo or a local path (vLLM's model tag). */
  repo: string;
  servedModelName: string;
  host: string;
  port: number;
  /** More arguments for the server (e.g. `--max-model-len 8192`). */
  extraArgs?: readonly string[];
}

/**
 * The full argv for launching: `command` then the serve arguments. The repo is positional when the
 * command ends with `serve` (`vllm serve <repo>`), and `--model <repo>` otherwise
 * (`python -m vllm.entrypoints.openai.api_server --model <repo>`).
 */
export function vllmServeArguments(command: readonly string[], input: VllmServeArgumentsInput): string[] {
  if (command.length === 0 || !command[0])
    throw new NerionError(
      'CONFIG_INVALID',
      'The vLLM launch command is empty; set NERION_VLLM_COMMAND (e.g. "vllm serve").',
    );
  const positional = command[command.length - 1] === 'serve';
  return [
    ...command,
    ...(positional ? [input.repo] : ['--model', input.repo]),
    '--served-model-name',
    input.servedModelName,
    '--host',
    input.host,
    '--port',
    String(input.port),
    ...(input.extraArgs ?? []),
  ];
}

const PidRecordSchema = v.object({
  pid: v.pipe(v.number(), v.integer(), v.minValue(1)),
  host: v.string(),
  port: v.number(),
  model: v.string(),
  repo: v.string(),
  argv: v.array(v.string()),
  logFile: v.string(),
  startedAt: v.string(),
  /** The process start time in clock ticks since boot (Linux /proc/<pid>/stat field 22): tells a recycled pid apart. */
  startTicks: v.optional(v.number()),
  baseUrl: v.string(),
});
export type VllmPidRecord = v.InferOutput<typeof PidRecordSchema>;

export interface VllmServerRecord extends VllmPidRecord {
  pidFile: string;
  /** Whether the recorded process is still running. */
  alive: boolean;
}

export function vllmRunDirectory(cacheDir: string): string {
  return join(cacheDir, 'run');
}

export function vllmLogDirectory(cacheDir: string): string {
  return join(cacheDir, 'logs');
}

export function vllmPidFile(cacheDir: string, port: number): string {
  return join(vllmRunDirectory(cacheDir), `vllm-${port}.pid`);
}

export function vllmLogFile(cacheDir: string, port: number): string {
  return join(vllmLogDirectory(cacheDir), `vllm-${port}.log`);
}

/** Liveness: signal 0 reaches the process (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    throw error;
  }
  // A zombie (exited, not yet reaped) still takes signals; on Linux its state says so.
  try {
    const status = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = status.slice(status.lastIndexOf(')') + 2, status.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return process.platform !== 'linux';
    throw error;
  }
}

/** A process's start time in clock ticks since boot (Linux), or undefined where /proc does not say. */
export function processStartTicks(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Fields after the parenthesised command name; starttime is field 22 overall, the 20th after it.
  const fields = status.slice(status.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** Whether the recorded server still runs: its pid is alive and, where known, started when it was recorded. */
export function isRecordedProcessAlive(record: Pick<VllmPidRecord, 'pid' | 'startTicks'>): boolean {
  if (!isProcessAlive(record.pid)) return false;
  if (record.startTicks === undefined) return true;
  const now = processStartTicks(record.pid);
  return now === undefined || now === record.startTicks;
}

/** Reads one pid file; undefined when there is none. A corrupt file is an error naming it. */
export function readVllmPidFile(pidFile: string): VllmServerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new NerionError(
      'CACHE_ERROR',
      `The pid file ${pidFile} is not JSON; delete it (after stopping any vLLM server it named).`,
      { cause: error, data: { pidFile } },
    );
  }
  const parsed = v.safeParse(PidRecordSchema, body);
  if (!parsed.success)
    throw new NerionError(
      'CACHE_ERROR',
      `The pid file ${pidFile} is malformed (${parsed.issues[0].message}); delete it (after stopping any vLLM server it named).`,
      { data: { pidFile } },
    );
  return { ...parsed.output, pidFile, alive: isRecordedProcessAlive(parsed.output) };
}

/** Every recorded autostarted vLLM server, running or stale. */
export function listVllmServers(cacheDir: string): VllmServerRecord[] {
  let names: string[];
  try {
    names = readdirSync(vllmRunDirectory(cacheDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => /^vllm-\d+\.pid$/.test(name))
    .sort()
    .map((name) => readVllmPidFile(join(vllmRunDirectory(cacheDir), name)))
    .filter((record): record is VllmServerRecord => record !== undefined);
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The last `count` lines of a log file (empty when it does not exist). */
export function readLogTail(logFile: string, count = 20): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count);
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // The server runs in its own process group (detached): signal the group so vLLM's workers go too.
    process.kill(-pid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw error;
    try {
      process.kill(pid, signal);
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code !== 'ESRCH') throw inner;
    }
  }
}

export interface StopProcessResult {
  pid: number;
  /** The signal that ended it; undefined when it was already gone. */
  signal: NodeJS.Signals | undefined;
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`; resolves once the pid is gone. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<StopProcessResult> {
  if (!isProcessAlive(pid)) return { pid, signal: undefined };
  signalGroup(pid, 'SIGTERM');
  const termDeadline = performance.now() + graceMs;
  while (performance.now() < termDeadline) {
    await sleep(50);
    if (!isProcessAlive(pid)) return { pid, signal: 'SIGTERM' };
  }
  signalGroup(pid, 'SIGKILL');
  const killDeadline = performance.now() + 5000;
  while (performance.now() < killDeadline) {
    await sleep(50);
    if (!isProcessAlive(pid)) return { pid, signal: 'SIGKILL' };
  }
  throw new NerionError('INTERNAL', `Process ${pid} survived SIGKILL for 5 s; stop it by hand (kill -9 ${pid}).`, {
    data: { pid },
  });
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

/** Stops the autostarted vLLM servers recorded under `cacheDir` (all, or the one on `port`) and removes their pid files. */
export async function stopVllmServers(options: {
  cacheDir: string;
  port?: number;
  graceMs?: number;
}): Promise<StoppedVllmServer[]> {
  const records = listVllmServers(options.cacheDir).filter(
    (record) => options.port === undefined || record.port === options.port,
  );
  const stopped: StoppedVllmServer[] = [];
  for (const record of records) {
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
  return stopped;
}

export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface VllmAutostartSettings {
  /** What `vllm serve` loads: a Hugging Face repo (the catalog's vLLM repo) or a local path. */
  repo: string;
  /** Root of logs and pid files (`<cacheDir>/logs/vllm-<port>.log`, `<cacheDir>/run/vllm-<port>.pid`). */
  cacheDir: string;
  /** The launch command, split into words (default `vllm serve`); the serve arguments are appended. */
  command?: readonly string[];
  /** More arguments for the server, after the standard ones. */
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

type Answer = { response: Response; error?: undefined } | { response?: undefined; error: unknown };

/** One request that may find nothing listening: the error is kept (it is the reason), not thrown. */
async function answers(url: string, doFetch: typeof fetch, timeoutMs: number): Promise<Answer> {
  try {
    return { response: await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) }) };
  } catch (error) {
    // Refused, reset or timed out: the normal state of a server that is still starting.
    return { error };
  }
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause ? `${describeError(error)}: ${describeError(cause)}` : describeError(error);
}

async function servedModels(root: string, doFetch: typeof fetch): Promise<string[] | undefined> {
  const { response } = await answers(`${root}/v1/models`, doFetch, 2000);
  if (!response?.ok) return undefined;
  const parsed = v.safeParse(v.object({ data: v.array(v.object({ id: v.string() })) }), await response.json());
  return parsed.success ? parsed.output.data.map((entry) => entry.id) : undefined;
}

function startFailure(
  message: string,
  logFile: string | undefined,
  data: Record<string, unknown>,
  cause?: unknown,
): NerionError {
  const tail = logFile ? readLogTail(logFile, 20) : [];
  const logPart = logFile
    ? ` Last lines of ${logFile}:\n${tail.length > 0 ? tail.map((line) => `  | ${line}`).join('\n') : '  (the log is empty)'}`
    : '';
  return new NerionError('SERVER_START_FAILED', `${message}${logPart}`, {
    cause,
    data: { ...data, logFile, logTail: tail },
  });
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

  if ((await answers(`${root}/health`, doFetch, 2000)).response?.ok) return { outcome: 'already-running' };

  const existing = readVllmPidFile(pidFile);
  if (existing?.alive) {
    progress(
      `Reusing the vLLM server nerion started earlier (pid ${existing.pid}, log ${existing.logFile}); waiting until it is ready…`,
    );
    await waitUntilReady({
      root,
      model: options.model,
      doFetch,
      progress,
      signal: options.signal,
      timeoutMs,
      settings,
      pid: existing.pid,
      logFile: existing.logFile,
      isOurs: false,
    });
    return { outcome: 'reused', pid: existing.pid, pidFile, logFile: existing.logFile };
  }
  if (existing) removeFile(pidFile); // stale: the recorded process is gone

  if (!address.isLocal) {
    throw new NerionError(
      'BACKEND_UNREACHABLE',
      `vLLM is not answering at ${root}, and autostart only launches a server on this machine; start vLLM on ${address.host} yourself, or point NERION_CODER_BASE_URL at localhost.`,
      {
        data: { baseUrl: root },
      },
    );
  }
  if (address.protocol === 'https:') {
    throw new NerionError(
      'CONFIG_INVALID',
      `Autostart launches vLLM over plain http, but NERION_CODER_BASE_URL is ${options.baseUrl}; use http://127.0.0.1:${address.port}, or start vLLM with your TLS settings yourself.`,
    );
  }

  const argv = vllmServeArguments(settings.command ?? DEFAULT_VLLM_COMMAND, {
    repo: settings.repo,
    servedModelName: options.model,
    host: '127.0.0.1',
    port: address.port,
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
    child = spawnFunction(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      shell: false,
      ...(settings.env ? { env: settings.env as NodeJS.ProcessEnv } : {}),
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
    );
  } finally {
    closeSync(logFd);
  }
  child.unref();
  const pid = child.pid!;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('exit', (code, signal) => (exit = { code, signal }));

  const startTicks = processStartTicks(pid);
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
    await waitUntilReady({
      root,
      model: options.model,
      doFetch,
      progress,
      signal: options.signal,
      timeoutMs,
      settings,
      pid: theirs.pid,
      logFile: theirs.logFile,
      isOurs: false,
    });
    return { outcome: 'reused', pid: theirs.pid, pidFile, logFile: theirs.logFile };
  }
  progress(
    `Starting vLLM: ${argv.join(' ')} (pid ${pid}; log ${logFile}; waiting up to ${Math.round(timeoutMs / 1000)} s)`,
  );
  try {
    await waitUntilReady({
      root,
      model: options.model,
      doFetch,
      progress,
      signal: options.signal,
      timeoutMs,
      settings,
      pid,
      logFile,
      isOurs: true,
      exited: () => exit,
    });
  } catch (error) {
    await stopProcessGroup(pid);
    removeFile(pidFile);
    throw error;
  }
  return { outcome: 'started', pid, pidFile, logFile };
}

interface WaitOptions {
  root: string;
  model: string;
  doFetch: typeof fetch;
  progress: (message: string) => void;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  settings: VllmAutostartSettings;
  pid: number;
  logFile: string;
  isOurs: boolean;
  exited?: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

async function waitUntilReady(options: WaitOptions): Promise<void> {
  const started = performance.now();
  const poll = options.settings.pollIntervalMs ?? 500;
  const every = options.settings.progressIntervalMs ?? 5000;
  let lastProgress = started;
  let healthy = false;
  let lastProblem = 'nothing answered yet';
  const data = { pid: options.pid, baseUrl: options.root, model: options.model };
  for (;;) {
    if (options.signal?.aborted) {
      throw new NerionError(
        'ABORTED',
        `Waiting for the vLLM server (pid ${options.pid}) was aborted${options.isOurs ? '; the server was stopped' : ''}.`,
        { cause: options.signal.reason, data },
      );
    }
    const exit = options.exited?.();
    if (exit || !isProcessAlive(options.pid)) {
      const how = exit ? (exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`) : 'exited';
      throw startFailure(`The vLLM server (pid ${options.pid}) ${how} before it was ready.`, options.logFile, {
        ...data,
        exit,
      });
    }
    if (!healthy) {
      const answer = await answers(`${options.root}/health`, options.doFetch, 2000);
      healthy = answer.response?.ok === true;
      lastProblem = answer.response
        ? `/health answered HTTP ${answer.response.status}`
        : `/health: ${describeCause(answer.error)}`;
    }
    if (healthy) {
      const models = await servedModels(options.root, options.doFetch);
      if (models?.includes(options.model)) {
        options.progress(
          `vLLM is ready at ${options.root} serving "${options.model}" (pid ${options.pid}, ${Math.round((performance.now() - started) / 1000)} s).`,
        );
        return;
      }
      if (models && models.length > 0) {
        throw startFailure(
          `The vLLM server at ${options.root} (pid ${options.pid}) is up but serves ${models.join(', ')}, not "${options.model}"; stop it with \`nerion models stop\` and retry.`,
          options.logFile,
          { ...data, served: models },
        );
      }
    }
    const elapsed = performance.now() - started;
    if (elapsed >= options.timeoutMs) {
      throw startFailure(
        `The vLLM server (pid ${options.pid}) was not ready within ${Math.round(options.timeoutMs / 1000)} s (last check: ${healthy ? `"${options.model}" not yet in /v1/models` : lastProblem})${options.isOurs ? '; it was stopped' : ''}. Raise NERION_SERVER_START_TIMEOUT if the model needs longer to load.`,
        options.logFile,
        { ...data, timeoutMs: options.timeoutMs },
      );
    }
    if (performance.now() - lastProgress >= every) {
      lastProgress = performance.now();
      options.progress(
        `Waiting for vLLM to load "${options.model}" (pid ${options.pid}) — ${Math.round(elapsed / 1000)} s of ${Math.round(options.timeoutMs / 1000)} s; log ${options.logFile}`,
      );
    }
    try {
      await sleep(Math.min(poll, Math.max(1, options.timeoutMs - elapsed)), options.signal);
    } catch (error) {
      if (!options.signal?.aborted) throw error;
    }
  }
}

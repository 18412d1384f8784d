/**
 * Waiting until a starting vLLM server answers `/health` and lists the model in `/v1/models`; a failure
 * carries the last lines of the server's log.
 */
import { NerionError, describeError, isProcessAlive, sleep, type NerionErrorFix } from '@nerion/backend-core';
import { listOpenAICompatibleModels } from '@nerion/backend-openai-compatible';
import { readLogTail } from './pid-file.js';
import type { VllmAutostartSettings } from './vllm-server.js';

type Answer = { response: Response; error?: undefined } | { response?: undefined; error: unknown };

/** One request that may find nothing listening: the error is kept (it is the reason), not thrown. */
export async function answers(url: string, doFetch: typeof fetch, timeoutMs: number): Promise<Answer> {
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
  try {
    return await listOpenAICompatibleModels({ baseUrl: root, fetch: doFetch, timeoutMs: 2000 });
  } catch {
    return undefined; // not up yet, or not answering like an OpenAI-compatible server yet
  }
}

export function startFailure(
  message: string,
  logFile: string | undefined,
  data: Record<string, unknown>,
  cause?: unknown,
  fix?: NerionErrorFix,
): NerionError {
  const tail = logFile ? readLogTail(logFile, 20) : [];
  const logPart = logFile
    ? ` Last lines of ${logFile}:\n${tail.length > 0 ? tail.map((line) => `  | ${line}`).join('\n') : '  (the log is empty)'}`
    : '';
  return new NerionError('SERVER_START_FAILED', `${message}${logPart}`, {
    cause,
    data: { ...data, logFile, logTail: tail },
    ...(fix ? { fix } : {}),
  });
}

export interface WaitOptions {
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

export async function waitUntilReady(options: WaitOptions): Promise<void> {
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
    let exit = options.exited?.();
    if (!exit && options.exited && !isProcessAlive(options.pid)) {
      // Node reaps our child before it emits 'exit': give that event a moment, so the message can say how it ended.
      for (let waited = 0; !exit && waited < 2000; waited += 20) {
        await sleep(20);
        exit = options.exited();
      }
    }
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
          undefined,
          { command: ['nerion', 'models', 'stop'] },
        );
      }
    }
    const elapsed = performance.now() - started;
    if (elapsed >= options.timeoutMs) {
      throw startFailure(
        `The vLLM server (pid ${options.pid}) was not ready within ${Math.round(options.timeoutMs / 1000)} s (last check: ${healthy ? `"${options.model}" not yet in /v1/models` : lastProblem})${options.isOurs ? '; it was stopped' : ''}. Raise NERION_SERVER_START_TIMEOUT if the model needs longer to load.`,
        options.logFile,
        { ...data, timeoutMs: options.timeoutMs },
        undefined,
        { settings: ['NERION_SERVER_START_TIMEOUT'] },
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

import {
  NerionError,
  connectionFailure,
  describeError,
  unreachableSentence,
  type ConnectionFailure,
  serverText,
  shellJoin,
  type NerionErrorFix,
  type RequestLifecycle,
} from '@nerion/backend-core';
import { NOT_OLLAMA_BODY } from './fetch-with-signal.js';
import { ollamaServeCommand } from './ollama-host.js';

/**
 * The sentence for "nothing answers": what happened, why when known (refused, host not found, timed out,
 * a port fetch blocks), and what fixes it.
 */
export function notRunningMessage(baseUrl: string, failure?: ConnectionFailure): string {
  if (failure?.code === 'BAD_PORT')
    return `${unreachableSentence('Ollama', baseUrl, failure)} — run Ollama on another port (\`ollama serve\` listens on 11434) and set NERION_OLLAMA_BASE_URL or OLLAMA_HOST to it.`;
  return `${unreachableSentence('Ollama', baseUrl, failure)} — start it with \`${shellJoin(ollamaServeCommand(baseUrl))}\` (or set NERION_OLLAMA_BASE_URL or OLLAMA_HOST to where it runs).`;
}

/** What fixes "nothing answers", as data: start Ollama where the backend looks, or point nerion at where it runs. */
export function notRunningFix(baseUrl: string, failure?: ConnectionFailure): NerionErrorFix {
  const settings = ['NERION_OLLAMA_BASE_URL', 'OLLAMA_HOST', 'NERION_CODER_BASE_URL'];
  return { settings, command: failure?.code === 'BAD_PORT' ? ['ollama', 'serve'] : ollamaServeCommand(baseUrl) };
}

/** What fixes "the model is not installed", as data: the command that installs it. */
export function modelMissingFix(model: string): NerionErrorFix {
  return { command: ['nerion', 'models', 'ensure', '--backend', 'ollama', '--model', model] };
}

/** The sentence for "the model is not installed", with the command that installs it. */
export function modelMissingMessage(model: string, baseUrl: string): string {
  return `The model "${model}" is not installed in Ollama at ${baseUrl} — run \`nerion models ensure --backend ollama --model ${model}\` (or \`ollama pull ${model}\`).`;
}

/** The ollama client's ResponseError: an HTTP status and Ollama's `{"error": "..."}` message. */
function responseStatus(error: unknown): number | undefined {
  if (error instanceof Error && error.name === 'ResponseError') {
    const status = (error as Error & { status_code?: unknown }).status_code;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

export interface ErrorContext {
  baseUrl: string;
  model: string;
  /** `request` until Ollama's reply has started, `reply` while reading it. */
  phase: 'request' | 'reply';
  lifecycle?: RequestLifecycle;
  /** What was being done, for messages: "generation", "pull". */
  what?: string;
}

const ENDED_EARLY = 'Did not receive done or success response in stream.';

/** Turns whatever the ollama client or fetch threw into a NerionError a person can act on. */
export function toNerionError(error: unknown, context: ErrorContext): NerionError {
  if (NerionError.isInstance(error)) return error;
  if (context.lifecycle?.aborted) return context.lifecycle.toError(error) as NerionError;
  const data = { baseUrl: context.baseUrl, model: context.model };
  const status = responseStatus(error);
  const message = describeError(error);
  // What Ollama (or whatever answers at baseUrl) said: escaped and bounded before it goes into a message.
  const said = serverText(message);
  if (status !== undefined) {
    if (status === 404 && /not found/i.test(message) && !message.startsWith(NOT_OLLAMA_BODY)) {
      return new NerionError('MODEL_NOT_FOUND', modelMissingMessage(context.model, context.baseUrl), {
        fix: modelMissingFix(context.model),
        cause: error,
        data: { ...data, status },
      });
    }
    if (status === 400) {
      return new NerionError(
        'INVALID_REQUEST',
        `Ollama at ${context.baseUrl} rejected the request for "${context.model}": ${said}`,
        { cause: error, data: { ...data, status } },
      );
    }
    return new NerionError(
      'BACKEND_ERROR',
      `Ollama at ${context.baseUrl} answered ${status}: ${said} — check the Ollama server log (\`journalctl -u ollama\` or ~/.ollama/logs/server.log).`,
      {
        cause: error,
        data: { ...data, status },
      },
    );
  }
  const failure = connectionFailure(error);
  const code = failure?.code;
  if (context.phase === 'request' && failure !== undefined) {
    return new NerionError('BACKEND_UNREACHABLE', notRunningMessage(context.baseUrl, failure), {
      cause: error,
      fix: notRunningFix(context.baseUrl, failure),
      data: { ...data, code: failure.code },
    });
  }
  if (context.phase === 'reply' && (code !== undefined || error instanceof TypeError || message === ENDED_EARLY)) {
    return new NerionError(
      'BACKEND_ERROR',
      `The connection to Ollama at ${context.baseUrl} broke in the middle of the ${context.what ?? 'reply'} (${said}${code ? `, ${code}` : ''}) — Ollama may have crashed or been stopped; check that \`ollama serve\` is running and its log, then retry.`,
      { fix: { command: ['ollama', 'serve'] }, cause: error, data: { ...data, ...(code ? { code } : {}) } },
    );
  }
  if (context.phase === 'reply') {
    // The client throws a plain Error carrying Ollama's in-stream `{"error": "..."}` record.
    return new NerionError(
      'BACKEND_ERROR',
      `Ollama reported an error during the ${context.what ?? 'generation'} with "${context.model}": ${said}`,
      { cause: error, data },
    );
  }
  return new NerionError('BACKEND_ERROR', `The request to Ollama at ${context.baseUrl} failed: ${said}`, {
    cause: error,
    data,
  });
}

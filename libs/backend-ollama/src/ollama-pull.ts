import { NerionError, RequestLifecycle, describeError, serverText } from '@nerion/backend-core';
import { DEFAULT_OLLAMA_BASE_URL } from './settings.js';
import { ollamaModelName } from './ollama-tags.js';
import { Ollama } from 'ollama';
import { fetchWithSignal } from './fetch-with-signal.js';
import { toNerionError } from './ollama-errors.js';
import { PullRecordSchema, parseResponse } from './ollama-responses.js';

/** One progress record of `POST /api/pull`, as Ollama streams it. */
export interface OllamaPullProgress {
  /** "pulling manifest", "pulling <digest prefix>", "verifying sha256 digest", "writing manifest", "success", … */
  status: string;
  /** The layer being downloaded (`sha256:…`), while one is. */
  digest?: string;
  /** The layer's size in bytes. */
  total?: number;
  /** Bytes of the layer downloaded so far (absent until the download starts). */
  completed?: number;
}

export interface OllamaPullOptions {
  onProgress?: (progress: OllamaPullProgress) => void;
  /** Aborting closes the HTTP request (Ollama keeps what it has and resumes on the next pull). */
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface OllamaPullResult {
  model: string;
  status: 'success';
}

export interface OllamaPullSettings {
  baseUrl?: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

/**
 * Asks Ollama to download `model` from its library, streaming Ollama's progress records to `onProgress`.
 * This downloads from the internet: callers (e.g. `nerion models ensure`) must have the user's consent first.
 */
export async function pullOllamaModel(
  settings: OllamaPullSettings,
  model: string,
  options: OllamaPullOptions = {},
): Promise<OllamaPullResult> {
  const name = ollamaModelName(model);
  const baseUrl = (settings.baseUrl ?? DEFAULT_OLLAMA_BASE_URL).replace(/\/+$/, '');
  const baseFetch =
    settings.fetch ?? ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, init));
  const lifecycle = new RequestLifecycle({ signal: options.signal, timeoutMs: options.timeoutMs }, `pull of "${name}"`);
  const client = new Ollama({
    host: baseUrl,
    fetch: fetchWithSignal(baseFetch, lifecycle.signal),
    ...(settings.headers ? { headers: settings.headers } : {}),
  });
  const context = { baseUrl, model: name, lifecycle, what: 'pull' } as const;
  try {
    lifecycle.throwIfAborted();
    let records: AsyncIterable<unknown> & { abort(): void };
    try {
      records = await client.pull({ model: name, stream: true });
    } catch (error) {
      throw toNerionError(error, { ...context, phase: 'request' });
    }
    let succeeded = false;
    try {
      for await (const raw of records) {
        const record = parseResponse(PullRecordSchema, raw, 'A pull progress record');
        // The status is the server's text and callers print it: escaped and bounded here.
        options.onProgress?.({ ...record, status: serverText(record.status, 200) });
        if (record.status === 'success') {
          succeeded = true;
          break;
        }
      }
    } catch (error) {
      if (lifecycle.aborted) throw lifecycle.toError(error);
      const message = describeError(error);
      if (!(error instanceof TypeError) && /file does not exist|not found|manifest unknown/i.test(message)) {
        throw new NerionError(
          'MODEL_NOT_FOUND',
          `Ollama's library has no model "${name}" (${serverText(message)}) — check the name and tag (e.g. "qwen2.5-coder:7b").`,
          {
            cause: error,
            data: { baseUrl, model: name },
          },
        );
      }
      throw toNerionError(error, { ...context, phase: 'reply' });
    } finally {
      if (!succeeded) records.abort();
    }
    if (!succeeded)
      throw toNerionError(new Error('Did not receive done or success response in stream.'), {
        ...context,
        phase: 'reply',
      });
    return { model: name, status: 'success' };
  } finally {
    lifecycle.dispose();
  }
}

import {
  CODER_BACKEND_SPECIFICATION_VERSION,
  DEFAULT_MAX_TOKENS,
  NerionError,
  RequestLifecycle,
  collectStream,
  connectionFailure,
  describeError,
  parseJsonOutput,
  validateGenerateRequest,
  type CoderBackend,
  type ConnectionFailure,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type JsonSchema,
  type ProbeOptions,
  type ProbeResult,
  type ReplicaBackoff,
  type ReplicaStatus,
  type StreamPart,
  createReplicatedBackend,
  tokenLimitAdvice,
} from '@nerion/backend-core';
import { Ollama } from 'ollama';
import { fetchWithSignal } from './fetch-with-signal.js';
import {
  chooseContextLength,
  contextWarning,
  estimatePromptTokens,
  type ContextWindowSettings,
} from './context-window.js';
import { modelMissingMessage, notRunningMessage, toNerionError } from './ollama-errors.js';
import { pullOllamaModel, type OllamaPullOptions, type OllamaPullResult } from './ollama-pull.js';
import {
  GenerationRecordSchema,
  TagsResponseSchema,
  VersionResponseSchema,
  parseResponse,
  type GenerationRecord,
} from './ollama-responses.js';
import { ollamaModelName, sameOllamaModel } from './ollama-tags.js';
import { STRUCTURED_OUTPUTS_SINCE, predatesStructuredOutputs } from './ollama-version.js';

import { DEFAULT_OLLAMA_BASE_URL } from './settings.js';
export { DEFAULT_OLLAMA_BASE_URL };
export const DEFAULT_OLLAMA_KEEP_ALIVE = '5m';
export const DEFAULT_OLLAMA_PROBE_TIMEOUT_MS = 2000;

export interface OllamaBackendSettings extends ContextWindowSettings {
  /** The Ollama model, e.g. `deepseek-coder-v2` or `qwen2.5-coder:7b`; an `ollama:` prefix is accepted. */
  model: string;
  /**
   * Where Ollama listens (default http://localhost:11434), or several Ollama servers with the same model:
   * replicas, load-balanced by `createReplicatedBackend` (fewest requests in flight; a request that could
   * not connect moves to another replica; a failed replica is taken out and probed back in).
   */
  baseUrl?: string | readonly string[];
  /** Backoff of a failed replica's checks (several base URLs only). */
  replicaBackoff?: ReplicaBackoff;
  /** How long Ollama keeps the model loaded after a request (`keep_alive`: "5m", "1h", seconds, -1 = forever). Default "5m". */
  keepAlive?: string | number;
  /** Upper bound of `probe()` (default 2000 ms). */
  probeTimeoutMs?: number;
  /** The fetch the ollama client uses (default: the global fetch). */
  fetch?: typeof fetch;
  /** Extra HTTP headers, e.g. for a proxy in front of Ollama. */
  headers?: Record<string, string>;
}

/** The Ollama backend: CoderBackend v1 plus `pull` for `nerion models ensure`. */
/**
 * What an Ollama probe reports beyond the common fields: the installed model's details when it is installed,
 * and why nothing answers when nothing does.
 */
export type OllamaProbeFacts = {
  /** When nothing answers: why (refused, host not found, timed out connecting, a port fetch blocks). */
  readonly connectionFailure?: ConnectionFailure;
  /** The tag Ollama lists the model under (`qwen2.5-coder:latest`). */
  readonly installedAs?: string;
  readonly size?: number;
  readonly digest?: string;
  readonly parameterSize?: string;
  readonly quantization?: string;
};

export interface OllamaBackend extends CoderBackend {
  readonly id: 'ollama';
  probe(options?: ProbeOptions): Promise<ProbeResult<OllamaProbeFacts>>;
  /** Where Ollama listens; the first replica's with several. */
  readonly baseUrl: string;
  /** Every Ollama server, in the order given (one entry without replicas). */
  readonly baseUrls: readonly string[];
  /** With several base URLs: every replica's routing state now (what `probe().replicas` reports, without probing). */
  readonly replicaStatuses?: () => ReplicaStatus[];
  /**
   * Downloads `model` (default: this backend's model) through Ollama, reporting its progress records; with
   * replicas, into each in turn (each server keeps its own models). Needs network consent from the caller.
   */
  pull(model?: string, options?: OllamaPullOptions): Promise<OllamaPullResult>;
}

type FetchFunction = typeof fetch;

function finishReasonOf(record: GenerationRecord, maxTokens: number): FinishReason {
  if (record.done_reason === 'length') return 'length';
  if (record.done_reason === 'stop' || record.done_reason === 'load' || record.done_reason === 'unload') return 'stop';
  // Versions without done_reason: a reply that used every allowed token was cut by num_predict.
  return record.eval_count !== undefined && record.eval_count >= maxTokens ? 'length' : 'stop';
}

function perSecond(count: number | undefined, nanoseconds: number | undefined): number | undefined {
  return count !== undefined && nanoseconds !== undefined && nanoseconds > 0 ? count / (nanoseconds / 1e9) : undefined;
}

/** The Ollama server URLs of `baseUrl` (trailing slashes removed); an empty list is CONFIG_INVALID. */
export function ollamaBaseUrls(baseUrl: string | readonly string[] | undefined): string[] {
  const urls =
    baseUrl === undefined ? [DEFAULT_OLLAMA_BASE_URL] : typeof baseUrl === 'string' ? [baseUrl] : [...baseUrl];
  if (urls.length === 0)
    throw new NerionError('CONFIG_INVALID', 'No Ollama base URL was given; write it like http://localhost:11434.', {
      fix: { settings: ['NERION_OLLAMA_BASE_URL'] },
    });
  return urls.map((url) => url.replace(/\/+$/, ''));
}

export function createOllamaBackend(settings: OllamaBackendSettings): OllamaBackend {
  const baseUrls = ollamaBaseUrls(settings.baseUrl);
  if (baseUrls.length === 1) return createSingleOllamaBackend(settings, baseUrls[0]);
  const single = baseUrls.map((url) => ({ url, backend: createSingleOllamaBackend(settings, url) }));
  const replicated = createReplicatedBackend({
    id: 'ollama',
    model: single[0].backend.model,
    serverName: 'Ollama',
    replicas: single,
    checkTimeoutMs: settings.probeTimeoutMs ?? DEFAULT_OLLAMA_PROBE_TIMEOUT_MS,
    ...(settings.replicaBackoff ? { backoff: settings.replicaBackoff } : {}),
  });
  return {
    ...replicated,
    id: 'ollama',
    baseUrl: baseUrls[0],
    baseUrls,
    async pull(pullModel?: string, options: OllamaPullOptions = {}): Promise<OllamaPullResult> {
      let result: OllamaPullResult | undefined;
      for (const { backend } of single) result = await backend.pull(pullModel, options);
      return result!;
    },
  };
}

function createSingleOllamaBackend(settings: OllamaBackendSettings, baseUrl: string): OllamaBackend {
  // An `ollama:` prefix is this backend's own; other prefixes are the caller's (the CLI's config strips them).
  const model = ollamaModelName(settings.model);
  const keepAlive = settings.keepAlive ?? DEFAULT_OLLAMA_KEEP_ALIVE;
  const baseFetch: FetchFunction = settings.fetch ?? ((input, init) => fetch(input, init));
  const headers = settings.headers;
  const closing = new AbortController();
  let closed = false;
  let knownVersion: string | undefined;

  const clientFor = (signal: AbortSignal): Ollama =>
    new Ollama({ host: baseUrl, fetch: fetchWithSignal(baseFetch, signal), ...(headers ? { headers } : {}) });

  const closedError = (): NerionError =>
    new NerionError('BACKEND_CLOSED', `This Ollama backend for "${model}" was closed; create a new one.`, {
      data: { model, baseUrl },
    });

  /** Ollama's version, for messages; fetched once, bounded, never throws. */
  async function serverVersion(): Promise<string> {
    if (knownVersion) return knownVersion;
    try {
      const version = parseResponse(
        VersionResponseSchema,
        await clientFor(AbortSignal.timeout(settings.probeTimeoutMs ?? DEFAULT_OLLAMA_PROBE_TIMEOUT_MS)).version(),
        'GET /api/version',
      );
      knownVersion = version.version;
      return knownVersion;
    } catch (error) {
      return `(version unknown: ${describeError(error)})`;
    }
  }

  /** Validates a schema request's reply; a reply that ignores the schema becomes INVALID_OUTPUT naming the Ollama version. */
  async function checkJson(
    text: string,
    schema: JsonSchema,
    finishReason: FinishReason,
    maxTokens: number,
  ): Promise<unknown> {
    try {
      return parseJsonOutput(text, schema, 'Ollama');
    } catch (error) {
      if (!NerionError.hasCode(error, 'INVALID_OUTPUT')) throw error;
      const version = await serverVersion();
      const detail = error.message.replace(/^Ollama /, '');
      const message =
        finishReason === 'length'
          ? `Ollama ${version}: ${detail} ${tokenLimitAdvice(maxTokens).sentence}`
          : predatesStructuredOutputs(version)
            ? `Ollama ${version} ignored the JSON schema sent in \`format\` (structured outputs need Ollama ${STRUCTURED_OUTPUTS_SINCE} or newer) and ${detail} — upgrade Ollama.`
            : `Ollama ${version} was sent the JSON schema in \`format\` but ${detail} — upgrade Ollama, or use a backend with grammar-constrained decoding (llama_cpp).`;
      throw new NerionError('INVALID_OUTPUT', message, {
        cause: error,
        data: { ...error.data, ollamaVersion: version, model, baseUrl },
        ...(finishReason === 'length' ? { fix: tokenLimitAdvice(maxTokens).fix } : {}),
      });
    }
  }

  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    if (closed) throw closedError();
    validateGenerateRequest(request);
    const lifecycle = new RequestLifecycle(request, 'Ollama generation');
    const signal = AbortSignal.any([lifecycle.signal, closing.signal]);
    const errorContext = { baseUrl, model, lifecycle } as const;
    const toError = (error: unknown, phase: 'request' | 'reply'): NerionError =>
      closed && !lifecycle.aborted ? closedError() : toNerionError(error, { ...errorContext, phase });
    try {
      lifecycle.throwIfAborted();
      const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
      const estimatedPromptTokens = estimatePromptTokens(request);
      const numCtx = chooseContextLength(estimatedPromptTokens, maxTokens, settings);
      const options = {
        num_ctx: numCtx,
        num_predict: maxTokens,
        temperature: request.temperature ?? 0,
        ...(request.stop && request.stop.length > 0 ? { stop: [...request.stop] } : {}),
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
      };
      const format = request.jsonSchema;
      const client = clientFor(signal);
      let records: AsyncIterable<unknown> & { abort(): void };
      try {
        records =
          request.prompt !== undefined
            ? await client.generate({
                model,
                prompt: request.prompt,
                raw: true,
                stream: true,
                options,
                keep_alive: keepAlive,
                ...(format ? { format } : {}),
              })
            : await client.chat({
                model,
                messages: (request.messages ?? []).map((message) => ({ role: message.role, content: message.content })),
                stream: true,
                options,
                keep_alive: keepAlive,
                ...(format ? { format } : {}),
              });
      } catch (error) {
        throw toError(error, 'request');
      }

      let text = '';
      let firstTextMs: number | undefined;
      let done: GenerationRecord | undefined;
      try {
        for await (const raw of records) {
          const record = parseResponse(GenerationRecordSchema, raw, 'A record of the reply');
          const delta = record.message?.content ?? record.response ?? '';
          if (delta) {
            firstTextMs ??= lifecycle.elapsedMs;
            text += delta;
            yield { type: 'text-delta', text: delta };
          }
          if (record.done) {
            done = record;
            break;
          }
        }
      } catch (error) {
        throw toError(error, 'reply');
      } finally {
        // Leaving early (consumer stopped, error) closes the HTTP request, so Ollama stops generating.
        if (!done) records.abort();
      }
      if (!done) throw toError(new Error('Did not receive done or success response in stream.'), 'reply');

      const warnings: string[] = [];
      const windowWarning = contextWarning(
        numCtx,
        estimatedPromptTokens,
        maxTokens,
        done.prompt_eval_count,
        done.eval_count,
      );
      if (windowWarning) {
        warnings.push(windowWarning);
        yield { type: 'warning', message: windowWarning };
      }
      const finishReason = finishReasonOf(done, maxTokens);
      const json = request.jsonSchema ? await checkJson(text, request.jsonSchema, finishReason, maxTokens) : undefined;
      const result: GenerateResult = {
        text,
        ...(request.jsonSchema ? { json } : {}),
        finishReason,
        usage: { promptTokens: done.prompt_eval_count, completionTokens: done.eval_count },
        timings: {
          totalMs: lifecycle.elapsedMs,
          ...(firstTextMs !== undefined ? { timeToFirstTokenMs: firstTextMs } : {}),
          ...(done.load_duration !== undefined ? { loadMs: done.load_duration / 1e6 } : {}),
          promptTokensPerSecond: perSecond(done.prompt_eval_count, done.prompt_eval_duration),
          decodeTokensPerSecond: perSecond(done.eval_count, done.eval_duration),
        },
        model: done.model ?? model,
        warnings,
      };
      yield { type: 'finish', result };
    } finally {
      lifecycle.dispose();
    }
  }

  async function probe(options: ProbeOptions = {}): Promise<ProbeResult<OllamaProbeFacts>> {
    if (closed) return { available: false, reason: `This Ollama backend for "${model}" was closed; create a new one.` };
    const timeoutMs = options.timeoutMs ?? settings.probeTimeoutMs ?? DEFAULT_OLLAMA_PROBE_TIMEOUT_MS;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const signal = AbortSignal.any([controller.signal, closing.signal, ...(options.signal ? [options.signal] : [])]);
    const client = clientFor(signal);
    try {
      const [versionBody, tagsBody] = await Promise.all([client.version(), client.list()]);
      const version = parseResponse(VersionResponseSchema, versionBody, 'GET /api/version').version;
      knownVersion = version;
      const tags = parseResponse(TagsResponseSchema, tagsBody, 'GET /api/tags');
      const models = tags.models.map((entry) => entry.name);
      const installed = tags.models.find(
        (entry) =>
          sameOllamaModel(entry.name, model) || (entry.model !== undefined && sameOllamaModel(entry.model, model)),
      );
      if (!installed) {
        return {
          available: false,
          reason: modelMissingMessage(model, baseUrl),
          models,
          modelAvailable: false,
          version,
          reachable: true,
          endpoint: baseUrl,
        };
      }
      return {
        available: true,
        models,
        modelAvailable: true,
        version,
        reachable: true,
        endpoint: baseUrl,
        facts: {
          installedAs: installed.name,
          ...(installed.size !== undefined ? { size: installed.size } : {}),
          ...(installed.digest !== undefined ? { digest: installed.digest } : {}),
          ...(installed.details?.parameter_size ? { parameterSize: installed.details.parameter_size } : {}),
          ...(installed.details?.quantization_level ? { quantization: installed.details.quantization_level } : {}),
        },
      };
    } catch (error) {
      const failure = timedOut || closed ? undefined : connectionFailure(error);
      return {
        available: false,
        reason: probeFailureReason(error, timedOut, timeoutMs),
        reachable: false,
        endpoint: baseUrl,
        ...(failure === undefined ? {} : { facts: { connectionFailure: failure } }),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  function probeFailureReason(error: unknown, timedOut: boolean, timeoutMs: number): string {
    if (timedOut)
      return `Ollama at ${baseUrl} did not answer within ${timeoutMs} ms — check that \`ollama serve\` is running and not stuck.`;
    if (closed) return `This Ollama backend for "${model}" was closed; create a new one.`;
    const mapped = toNerionError(error, { baseUrl, model, phase: 'request' });
    if (mapped.code === 'BACKEND_UNREACHABLE') return mapped.message;
    if (
      error instanceof SyntaxError ||
      /not shaped as Ollama documents/.test(describeError(error)) ||
      (mapped.data.status as number | undefined) === 404
    ) {
      return `Something answers at ${baseUrl}, but not as Ollama does (${describeError(error)}) — check that NERION_OLLAMA_BASE_URL (or NERION_CODER_BASE_URL with Ollama selected) points at \`ollama serve\`.`;
    }
    if (error instanceof Error && error.name === 'AbortError') return `The probe of Ollama at ${baseUrl} was aborted.`;
    return `Ollama at ${baseUrl} could not be checked: ${describeError(error)} — check that \`ollama serve\` is running (${notRunningMessage(baseUrl)})`;
  }

  return {
    specificationVersion: CODER_BACKEND_SPECIFICATION_VERSION,
    id: 'ollama',
    model,
    baseUrl,
    baseUrls: [baseUrl],
    supportsConstrainedDecoding: true,
    probe,
    generate: (request) => collectStream(stream(request)),
    stream,
    pull: (pullModel = model, options = {}) => {
      if (closed) return Promise.reject(closedError());
      return pullOllamaModel({ baseUrl, fetch: baseFetch, ...(headers ? { headers } : {}) }, pullModel, {
        ...options,
        signal: options.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal,
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort(closedError());
    },
  };
}

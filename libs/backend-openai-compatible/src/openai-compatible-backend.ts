/**
 * A CoderBackend over any OpenAI-compatible HTTP server (vLLM, TabbyAPI, llama.cpp's server, …),
 * through the `openai` npm client: chat completions (and completions for raw prompts), SSE streaming
 * with `stream_options.include_usage`, `/v1/models` for the probe and model matching, strict JSON via
 * `response_format: {type: "json_schema", json_schema: {name, schema, strict: true}}`, always validated.
 *
 * `createVllmBackend` builds on it; the exllamav2 backend's HTTP mode (TabbyAPI) reuses it as is.
 */
import OpenAI from 'openai';
import * as v from 'valibot';
import {
  connectionFailure,
  unreachableSentence,
  CODER_BACKEND_SPECIFICATION_VERSION,
  DEFAULT_MAX_TOKENS,
  NerionError,
  RequestLifecycle,
  describeError,
  parseJsonOutput,
  serverText,
  validateGenerateRequest,
  type BackendId,
  type CoderBackend,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type ProbeOptions,
  type ProbeResult,
  type StreamPart,
  type NerionErrorFix,
  type ReplicaBackoff,
  type ReplicaStatus,
  type TokenUsage,
  createReplicatedBackend,
  tokenLimitAdvice,
} from '@nerion/backend-core';
import { fetchModelList, type ModelList } from './list-models.js';
import { serverRootFromBaseUrl } from './server-root.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export interface OpenAICompatibleBackendSettings {
  /** The backend id this instance reports (`vllm`, or `exllamav2` for TabbyAPI). */
  id: BackendId;
  /** The served model id to request (vLLM's `--served-model-name`). */
  model: string;
  /**
   * The server root, e.g. `http://localhost:8000` (a trailing `/v1` is accepted and ignored), or several
   * roots: replicas serving the same model, load-balanced by `createReplicatedBackend` (fewest requests
   * in flight; a request that could not connect moves to another replica; a failed replica is taken out
   * and probed back in).
   */
  baseUrl: string | readonly string[];
  /** Backoff of a failed replica's checks (several base URLs only). */
  replicaBackoff?: ReplicaBackoff;
  /** Sent as a Bearer token; vLLM only checks it when started with `--api-key`. */
  apiKey?: string;
  /** The server's name in messages: `vLLM`, `TabbyAPI`, … */
  serverName: string;
  /** What the user should do when nothing answers, e.g. "start it with `vllm serve <repo> …`" (per server root with replicas). */
  startHint?: string | ((root: string) => string);
  /** The same as data: which settings or command make the server answer (carried on BACKEND_UNREACHABLE). */
  startFix?: NerionErrorFix | ((root: string) => NerionErrorFix);
  /** Bound of probe() (default 2000 ms). */
  probeTimeoutMs?: number;
  /** Injectable fetch (tests, proxies); defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * Whether the server enforces `response_format` json_schema while decoding (default true, as vLLM does).
   * Set false for servers without structured outputs: answers are then only validated.
   */
  supportsConstrainedDecoding?: boolean;
  /** Extra fields merged into every request body (engine-specific sampling options). */
  extraBody?: Readonly<Record<string, unknown>>;
  /**
   * Called before each generation until it resolves once: make the server answer (autostart).
   * Receives the caller's abort signal, which close() also fires; its errors surface as they are (e.g. SERVER_START_FAILED).
   */
  ensureServer?: (context: { signal: AbortSignal | undefined }) => Promise<void>;
  /** Adds facts (and a better reason) to probe(): e.g. that autostart will launch a server. */
  describeProbe?: (probe: ProbeResult) => Promise<ProbeResult> | ProbeResult;
  /** Runs on close(), after the HTTP client is released (e.g. stop an autostarted server). */
  onClose?: () => Promise<void>;
}

export interface OpenAICompatibleBackend extends CoderBackend {
  /** The server root the backend talks to (no trailing slash, no `/v1`); the first replica's with several. */
  readonly baseUrl: string;
  /** Every server root, in the order given (one entry without replicas). */
  readonly baseUrls: readonly string[];
  /** With several base URLs: every replica's routing state now (what `probe().replicas` reports, without probing). */
  readonly replicaStatuses?: () => ReplicaStatus[];
  /** The served model ids, as `/v1/models` lists them now. Throws BACKEND_UNREACHABLE. */
  listServedModels(options?: ProbeOptions): Promise<string[]>;
}

const VersionSchema = v.object({ version: v.string() });

function mapFinishReason(reason: string | null | undefined): { finishReason: FinishReason; warning?: string } {
  if (reason === 'stop' || reason === 'tool_calls' || reason === 'function_call') return { finishReason: 'stop' };
  if (reason === 'length') return { finishReason: 'length' };
  return {
    finishReason: 'error',
    warning: `The server ended the generation with finish_reason "${serverText(String(reason), 100)}".`,
  };
}

function usageFrom(
  usage: { prompt_tokens?: number | null; completion_tokens?: number | null } | null | undefined,
): TokenUsage {
  if (!usage) return {};
  return {
    ...(typeof usage.prompt_tokens === 'number' ? { promptTokens: usage.prompt_tokens } : {}),
    ...(typeof usage.completion_tokens === 'number' ? { completionTokens: usage.completion_tokens } : {}),
  };
}

/** The server roots of `baseUrl`: one, or several replicas (each parsed; an empty list is CONFIG_INVALID). */
export function serverRootsFromBaseUrl(baseUrl: string | readonly string[]): string[] {
  const urls = typeof baseUrl === 'string' ? [baseUrl] : [...baseUrl];
  if (urls.length === 0)
    throw new NerionError('CONFIG_INVALID', 'No base URL was given; write the server root like http://localhost:8000.');
  return urls.map(serverRootFromBaseUrl);
}

export function createOpenAICompatibleBackend(settings: OpenAICompatibleBackendSettings): OpenAICompatibleBackend {
  const roots = serverRootsFromBaseUrl(settings.baseUrl);
  if (roots.length === 1) return createSingleEndpointBackend(settings, roots[0]);
  if (settings.ensureServer)
    throw new NerionError(
      'CONFIG_INVALID',
      `${settings.serverName} has ${roots.length} base URLs (replicas), and starting a server applies to one endpoint only; start each replica yourself, or give one base URL.`,
      { data: { baseUrls: roots } },
    );
  const single = roots.map((root) => ({ url: root, backend: createSingleEndpointBackend(settings, root) }));
  const replicated = createReplicatedBackend({
    id: settings.id,
    model: settings.model,
    serverName: settings.serverName,
    replicas: single,
    checkTimeoutMs: settings.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    ...(settings.replicaBackoff ? { backoff: settings.replicaBackoff } : {}),
  });
  return {
    ...replicated,
    baseUrl: roots[0],
    baseUrls: roots,
    /** The served models of the first replica that answers. */
    async listServedModels(options?: ProbeOptions): Promise<string[]> {
      const failures: unknown[] = [];
      for (const { backend } of single) {
        try {
          return await backend.listServedModels(options);
        } catch (error) {
          failures.push(error);
        }
      }
      throw new NerionError(
        'BACKEND_UNREACHABLE',
        `None of the ${roots.length} ${settings.serverName} replicas answered /v1/models (${failures.map(describeError).join('; ')}).`,
        { cause: failures[0], data: { baseUrls: roots } },
      );
    },
  };
}

function createSingleEndpointBackend(settings: OpenAICompatibleBackendSettings, root: string): OpenAICompatibleBackend {
  const apiBase = `${root}/v1`;
  const serverName = settings.serverName;
  const doFetch = settings.fetch ?? fetch;
  const probeTimeoutMs = settings.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const startHint =
    typeof settings.startHint === 'function'
      ? settings.startHint(root)
      : (settings.startHint ??
        `start an OpenAI-compatible server there, or set NERION_CODER_BASE_URL to where one runs`);
  const startFix = typeof settings.startFix === 'function' ? settings.startFix(root) : settings.startFix;
  const headers: Record<string, string> = settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {};
  const inflight = new Set<AbortController>();
  let closed = false;
  let serverReady = settings.ensureServer === undefined;
  let knownVersion: string | undefined;
  let versionProblem: string | undefined;

  const client = new OpenAI({
    baseURL: apiBase,
    // vLLM accepts any key unless started with --api-key; the client insists on one.
    apiKey: settings.apiKey ?? 'EMPTY',
    maxRetries: 0,
    // Timeouts are ours (RequestLifecycle); the client's own would cut long generations.
    timeout: 2_147_000_000,
    fetch: doFetch,
  });

  // The settings that hold this server's address (a blocked port is fixed by moving the server, not starting it).
  const urlSettings = (startFix?.settings ?? []).filter((name) => name.endsWith('_BASE_URL'));
  const unreachableError = (cause: unknown): NerionError => {
    const failure = connectionFailure(cause);
    const sentence = unreachableSentence(serverName, root, failure);
    if (failure?.code === 'BAD_PORT') {
      const settingsToSet = urlSettings.length > 0 ? urlSettings : ['NERION_CODER_BASE_URL'];
      return new NerionError(
        'BACKEND_UNREACHABLE',
        `${sentence} — run ${serverName} on another port and set ${settingsToSet.join(' or ')} to it.`,
        { cause, data: { baseUrl: root, code: failure.code }, fix: { settings: settingsToSet } },
      );
    }
    return new NerionError('BACKEND_UNREACHABLE', `${sentence} — ${startHint}.`, {
      cause,
      data: { baseUrl: root, ...(failure ? { code: failure.code } : {}) },
      ...(startFix ? { fix: startFix } : {}),
    });
  };

  async function getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const response = await doFetch(`${root}${path}`, { headers, signal });
    if (!response.ok)
      throw new NerionError(
        'BACKEND_ERROR',
        `${serverName} at ${root} answered ${path} with HTTP ${response.status}.`,
        { data: { status: response.status } },
      );
    return await response.json();
  }

  async function fetchModels(options: ProbeOptions = {}): Promise<ModelList> {
    try {
      return await fetchModelList({
        baseUrl: root,
        serverName,
        timeoutMs: options.timeoutMs ?? probeTimeoutMs,
        fetch: doFetch,
        ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (NerionError.hasCode(error, 'BACKEND_UNREACHABLE')) throw unreachableError(error.cause);
      throw error;
    }
  }

  async function fetchVersion(timeoutMs = probeTimeoutMs): Promise<string | undefined> {
    if (knownVersion !== undefined) return knownVersion;
    try {
      const parsed = v.safeParse(VersionSchema, await getJson('/version', AbortSignal.timeout(timeoutMs)));
      if (parsed.success) knownVersion = parsed.output.version;
    } catch (error) {
      // /version is vLLM's own endpoint; other servers lack it. The version is then unknown, and messages
      // say "(version unknown)"; the reason is kept for probe details.
      versionProblem = serverText(describeError(error));
    }
    return knownVersion;
  }

  const serverLabel = (version: string | undefined): string =>
    `${serverName}${version ? ` ${version}` : ' (version unknown)'} at ${root}`;

  async function modelNotFound(cause: unknown): Promise<NerionError> {
    let served: string[] | undefined;
    try {
      served = (await fetchModels()).data.map((entry) => entry.id);
    } catch (error) {
      served = undefined;
      cause = cause ?? error;
    }
    const list =
      served === undefined
        ? 'its model list could not be read'
        : served.length === 0
          ? 'it serves no models'
          : `it serves: ${serverText(served.join(', '))}`;
    return new NerionError(
      'MODEL_NOT_FOUND',
      `${serverName} at ${root} does not serve "${settings.model}" (${list}). Set NERION_CODER_MODEL to a served id, or start the server with --served-model-name ${settings.model}.`,
      {
        cause,
        data: { model: settings.model, served, baseUrl: root },
        fix: { settings: ['NERION_CODER_MODEL'] },
      },
    );
  }

  /** Maps whatever the client threw to a NerionError (cut calls become ABORTED/TIMEOUT). */
  async function toNerionError(error: unknown, lifecycle: RequestLifecycle, midStream: boolean): Promise<unknown> {
    if (lifecycle.aborted) return lifecycle.toError(error);
    if (NerionError.isInstance(error)) return error;
    if (closed)
      return new NerionError('BACKEND_CLOSED', `The ${serverName} backend was closed during the call.`, {
        cause: error,
      });
    if (error instanceof OpenAI.APIUserAbortError) return lifecycle.toError(error);
    if (error instanceof OpenAI.APIConnectionError || !(error instanceof OpenAI.APIError)) {
      if (midStream) {
        return new NerionError(
          'BACKEND_ERROR',
          `The connection to ${serverName} at ${root} broke in the middle of the response (${serverText(describeError(error))}); check the server's log, then retry.`,
          { cause: error },
        );
      }
      if (error instanceof OpenAI.APIConnectionError) {
        serverReady = settings.ensureServer === undefined;
        return unreachableError(error);
      }
      return new NerionError('BACKEND_ERROR', `${serverName} at ${root} failed: ${serverText(describeError(error))}`, {
        cause: error,
      });
    }
    const status = error.status as number | undefined;
    const serverMessage = (error.error as { message?: unknown } | undefined)?.message;
    // The server's words: escaped and bounded (a hostile server may send escape sequences or megabytes).
    const detail = serverText(typeof serverMessage === 'string' ? serverMessage : error.message);
    if (status === undefined) {
      // An error event inside an open SSE stream (`data: {"error": {…}}`), as vLLM sends when generation fails.
      return new NerionError(
        'BACKEND_ERROR',
        `${serverName} at ${root} reported an error during generation: ${detail}. Check the server's log, then retry.`,
        { cause: error },
      );
    }
    if (status === 404) return modelNotFound(error);
    if (status === 400 || status === 422) {
      return new NerionError('INVALID_REQUEST', `${serverName} at ${root} rejected the request: ${detail}`, {
        cause: error,
        data: { status },
      });
    }
    if (status === 401 || status === 403) {
      return new NerionError(
        'BACKEND_ERROR',
        `${serverName} at ${root} refused the API key (HTTP ${status}): ${detail}. Set the key the server was started with.`,
        { cause: error, data: { status } },
      );
    }
    return new NerionError('BACKEND_ERROR', `${serverName} at ${root} failed with HTTP ${String(status)}: ${detail}`, {
      cause: error,
      data: { status },
    });
  }

  function assertOpen(): void {
    if (closed) throw new NerionError('BACKEND_CLOSED', `This ${serverName} backend was closed; create a new one.`);
  }

  async function prepare(request: GenerateRequest): Promise<void> {
    assertOpen();
    validateGenerateRequest(request);
    if (request.signal?.aborted)
      throw new NerionError('ABORTED', 'The generation was aborted by the caller.', { cause: request.signal.reason });
    if (!serverReady && settings.ensureServer) {
      // close() ends the wait too (an autostarted server still loading is then stopped, not left behind).
      const closing = new AbortController();
      inflight.add(closing);
      try {
        await settings.ensureServer({
          signal: request.signal ? AbortSignal.any([request.signal, closing.signal]) : closing.signal,
        });
      } finally {
        inflight.delete(closing);
      }
      assertOpen();
      serverReady = true;
    }
  }

  function requestBody(request: GenerateRequest, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: settings.model,
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: request.temperature ?? 0,
      ...(request.stop && request.stop.length > 0 ? { stop: [...request.stop] } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.jsonSchema
        ? {
            response_format: {
              type: 'json_schema',
              json_schema: { name: 'nerion_output', schema: request.jsonSchema, strict: true },
            },
          }
        : {}),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      ...settings.extraBody,
    };
    if (request.messages)
      body.messages = request.messages.map((message) => ({ role: message.role, content: message.content }));
    else body.prompt = request.prompt;
    return body;
  }

  async function finishResult(
    request: GenerateRequest,
    text: string,
    base: Omit<GenerateResult, 'text' | 'json'>,
  ): Promise<GenerateResult> {
    if (!request.jsonSchema) return { ...base, text };
    try {
      return { ...base, text, json: parseJsonOutput(text, request.jsonSchema, `${serverName} at ${root}`) };
    } catch (error) {
      if (!NerionError.hasCode(error, 'INVALID_OUTPUT')) throw error;
      // Cut at maxTokens while following the schema (the text opens like JSON): say so, instead of blaming the server.
      if (base.finishReason === 'length' && /^\s*[[{]/.test(text)) {
        const advice = tokenLimitAdvice(request.maxTokens ?? DEFAULT_MAX_TOKENS);
        throw new NerionError('INVALID_OUTPUT', `${error.message} (${serverName}) ${advice.sentence}`, {
          cause: error,
          data: { ...error.data, finishReason: 'length', baseUrl: root },
          fix: advice.fix,
        });
      }
      const version = await fetchVersion();
      throw new NerionError(
        'INVALID_OUTPUT',
        `${serverLabel(version)} did not honour response_format json_schema for "${settings.model}": ${error.message} Use a server that supports structured outputs (vLLM ≥ 0.6 with a guided-decoding backend), or drop --json-grammar.`,
        { cause: error, data: { ...error.data, server: serverName, version, baseUrl: root } },
      );
    }
  }

  function timingsFrom(
    lifecycle: RequestLifecycle,
    firstTokenAt: number | undefined,
    usage: TokenUsage,
  ): GenerateResult['timings'] {
    const totalMs = Math.max(lifecycle.elapsedMs, 0.001);
    const timeToFirstTokenMs = firstTokenAt === undefined ? undefined : firstTokenAt - lifecycle.startedAt;
    const decodeMs = totalMs - (timeToFirstTokenMs ?? 0);
    return {
      totalMs,
      ...(timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs }),
      ...(usage.completionTokens && decodeMs > 0
        ? { decodeTokensPerSecond: (usage.completionTokens * 1000) / decodeMs }
        : {}),
    };
  }

  function track(lifecycle: RequestLifecycle): { controller: AbortController; release: () => void } {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(lifecycle.signal.reason);
    lifecycle.signal.addEventListener('abort', onAbort, { once: true });
    inflight.add(controller);
    return {
      controller,
      release: () => {
        lifecycle.signal.removeEventListener('abort', onAbort);
        inflight.delete(controller);
      },
    };
  }

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    await prepare(request);
    const lifecycle = new RequestLifecycle(request, `${serverName} generation`);
    const { controller, release } = track(lifecycle);
    try {
      lifecycle.throwIfAborted();
      const body = requestBody(request, false);
      let text: string;
      let reason: string | null | undefined;
      let usage: TokenUsage;
      let model: string;
      if (request.messages) {
        const completion = (await client.chat.completions.create(
          body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
          { signal: controller.signal },
        )) as OpenAI.ChatCompletion;
        const choice = completion.choices[0];
        text = choice?.message?.content ?? '';
        reason = choice?.finish_reason;
        usage = usageFrom(completion.usage);
        model = completion.model || settings.model;
      } else {
        const completion = (await client.completions.create(
          body as unknown as OpenAI.CompletionCreateParamsNonStreaming,
          { signal: controller.signal },
        )) as OpenAI.Completion;
        const choice = completion.choices[0];
        text = choice?.text ?? '';
        reason = choice?.finish_reason;
        usage = usageFrom(completion.usage);
        model = completion.model || settings.model;
      }
      const finish = mapFinishReason(reason);
      return await finishResult(request, text, {
        finishReason: finish.finishReason,
        usage,
        timings: timingsFrom(lifecycle, undefined, usage),
        model,
        warnings: finish.warning ? [finish.warning] : [],
      });
    } catch (error) {
      throw await toNerionError(error, lifecycle, false);
    } finally {
      release();
      lifecycle.dispose();
    }
  }

  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    await prepare(request);
    const lifecycle = new RequestLifecycle(request, `${serverName} generation`);
    const { controller, release } = track(lifecycle);
    let text = '';
    let started = false;
    try {
      lifecycle.throwIfAborted();
      const body = requestBody(request, true);
      const chunks = request.messages
        ? await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming, {
            signal: controller.signal,
          })
        : await client.completions.create(body as unknown as OpenAI.CompletionCreateParamsStreaming, {
            signal: controller.signal,
          });
      started = true;
      let firstTokenAt: number | undefined;
      let reason: string | null | undefined;
      let usage: TokenUsage = {};
      let model = settings.model;
      for await (const chunk of chunks as AsyncIterable<OpenAI.ChatCompletionChunk | OpenAI.Completion>) {
        lifecycle.throwIfAborted();
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = usageFrom(chunk.usage);
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = 'delta' in choice ? choice.delta?.content : choice.text;
        if (delta) {
          firstTokenAt ??= performance.now();
          text += delta;
          yield { type: 'text-delta', text: delta };
        }
        if (choice.finish_reason) reason = choice.finish_reason;
      }
      lifecycle.throwIfAborted();
      if (!reason) {
        throw new NerionError(
          'BACKEND_ERROR',
          `${serverName} at ${root} ended the stream before a finish_reason (after ${text.length} characters); check the server's log, then retry.`,
          {
            data: { baseUrl: root, partial: text.slice(0, 2000) },
          },
        );
      }
      const finish = mapFinishReason(reason);
      if (finish.warning) yield { type: 'warning', message: finish.warning };
      const result = await finishResult(request, text, {
        finishReason: finish.finishReason,
        usage,
        timings: timingsFrom(lifecycle, firstTokenAt, usage),
        model,
        warnings: finish.warning ? [finish.warning] : [],
      });
      yield { type: 'finish', result };
    } catch (error) {
      throw await toNerionError(error, lifecycle, started);
    } finally {
      // Leaving the loop early (a consumer's break) must stop the server's generation too.
      controller.abort(new NerionError('ABORTED', 'The stream was closed by its consumer.'));
      release();
      lifecycle.dispose();
    }
  }

  async function probe(options: ProbeOptions = {}): Promise<ProbeResult> {
    if (closed) return { available: false, reason: `This ${serverName} backend was closed; create a new one.` };
    let result: ProbeResult;
    try {
      const [list, version] = await Promise.all([
        fetchModels(options),
        fetchVersion(options.timeoutMs ?? probeTimeoutMs),
      ]);
      const models = list.data.map((entry) => entry.id);
      const entry = list.data.find((candidate) => candidate.id === settings.model);
      const modelAvailable = entry !== undefined;
      result = {
        available: true,
        models,
        modelAvailable,
        ...(version ? { version } : {}),
        ...(modelAvailable
          ? {}
          : {
              reason: `${serverName} at ${root} answers but does not serve "${settings.model}" (${models.length === 0 ? 'it serves no models' : `it serves: ${models.join(', ')}`}); set NERION_CODER_MODEL to a served id, or start the server with --served-model-name ${settings.model}.`,
            }),
        reachable: true,
        endpoint: root,
        facts: {
          server: serverName,
          ...(version === undefined && versionProblem ? { versionUnavailable: versionProblem } : {}),
          ...(entry?.owned_by ? { ownedBy: entry.owned_by } : {}),
          ...(entry?.root ? { root: entry.root } : {}),
          ...(typeof entry?.max_model_len === 'number' ? { maxModelLen: entry.max_model_len } : {}),
        },
      };
    } catch (error) {
      result = {
        available: false,
        reason: NerionError.isInstance(error) ? error.message : unreachableError(error).message,
        endpoint: root,
        facts: { server: serverName },
      };
    }
    if (!settings.describeProbe) return result;
    try {
      return await settings.describeProbe(result);
    } catch (error) {
      return { ...result, facts: { ...result.facts, probeExtraError: describeError(error) } };
    }
  }

  return {
    specificationVersion: CODER_BACKEND_SPECIFICATION_VERSION,
    id: settings.id,
    model: settings.model,
    supportsConstrainedDecoding: settings.supportsConstrainedDecoding ?? true,
    baseUrl: root,
    baseUrls: [root],
    probe,
    generate,
    stream,
    async listServedModels(options?: ProbeOptions): Promise<string[]> {
      return (await fetchModels(options)).data.map((entry) => entry.id);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const controller of inflight)
        controller.abort(new NerionError('BACKEND_CLOSED', `The ${serverName} backend was closed during the call.`));
      inflight.clear();
      if (settings.onClose) await settings.onClose();
    },
  };
}

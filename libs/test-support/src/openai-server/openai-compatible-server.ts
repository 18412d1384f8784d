/**
 * A protocol-faithful local OpenAI-compatible server, standing in for vLLM's `vllm serve` in tests:
 * the same routes and bodies as vLLM's server (`/health` 200 with an empty body, `/version`,
 * `/v1/models` with `owned_by: "vllm"` and `max_model_len`, `/v1/chat/completions`, `/v1/completions`,
 * SSE `data: {…}` chunks with `choices[0].delta.content`, a final chunk with `finish_reason`, the
 * `stream_options.include_usage` usage chunk, `data: [DONE]`, and vLLM's error bodies
 * `{"object":"error","message":…,"type":"BadRequestError"|"NotFoundError","code":…}`), generating real
 * text with a CoderBackend from `@nerion/backend-llamacpp` on a real GGUF. `response_format`
 * `json_schema` becomes grammar-constrained decoding, as in vLLM's structured outputs.
 *
 * It is NOT vLLM: no batching, no tokenizer endpoints, no logprobs. Test names that use it say so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpError, listen, readRequestText, sendBody } from '../http/http-helpers.js';
import {
  NerionError,
  type CoderBackend,
  type ChatMessage,
  type GenerateRequest,
  type GenerateResult,
  type JsonSchema,
} from '@nerion/backend-core';

export const STAND_IN_VERSION = '0.0.0+nerion-vllm-stand-in';

export interface OpenAICompatibleServerOptions {
  /** Served model id → GGUF file (vLLM's `--served-model-name` → the model it loaded). */
  models: Readonly<Record<string, string>>;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Behave like a server without structured outputs: accept `response_format` and ignore it. */
  ignoreResponseFormat?: boolean;
  /** Destroy the connection after this many content chunks of a streamed response (tests the client's handling). */
  dieMidStreamAfterChunks?: number;
  /** Send vLLM's in-stream error event (`data: {"error": {…}}`, then `[DONE]`) after this many content chunks. */
  errorMidStreamAfterChunks?: number;
  /**
   * Generate for at most this many requests at once; the others wait in arrival order (vLLM's
   * `--max-num-seqs` waiting queue). Default: no limit. 1 makes a server that serves one request at a time.
   */
  maxConcurrentRequests?: number;
  /** Wait this long before listening (a model load): nothing answers meanwhile, as with vLLM. */
  startupDelayMs?: number;
  /**
   * The server's seed for requests that carry none (vLLM's `--seed`; default 0, vLLM's long-standing
   * default). It makes unseeded sampling repeatable, so tests do not depend on the model's luck.
   */
  seed?: number;
  /** What `/version` reports (default STAND_IN_VERSION). */
  version?: string;
  /** llama.cpp threads for the generating backend (default 1: fastest for tiny models on 2 cores). */
  threads?: number;
  /** Context size for the generating backend and `max_model_len` (default 2048). */
  contextSize?: number;
  /** How to make the generating backend for one served model (default: createLlamaCppBackend on the GGUF). */
  createBackend?: (servedModelName: string, modelPath: string) => Promise<CoderBackend>;
  /** Lines for a log, like vLLM's console output (default: none). */
  log?: (line: string) => void;
}

export interface OpenAICompatibleServer {
  /** The server root, e.g. http://127.0.0.1:41234 (append /v1 for the OpenAI API). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every request the server received, in order: method, path and parsed JSON body. */
  readonly requests: ReadonlyArray<{ method: string; path: string; body: unknown }>;
  close(): Promise<void>;
}

function errorBody(status: number, type: string, message: string): string {
  return JSON.stringify({ object: 'error', message, type, param: null, code: status });
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readRequestText(request);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${(error as Error).message}`, 'BadRequestError');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ParsedRequest {
  model: string;
  generate: GenerateRequest;
  stream: boolean;
  includeUsage: boolean;
}

function parseCompletionRequest(body: unknown, kind: 'chat' | 'completion'): ParsedRequest {
  if (!isRecord(body)) throw new HttpError(400, 'The request body must be a JSON object.', 'BadRequestError');
  if (typeof body.model !== 'string') throw new HttpError(400, '`model` is required.', 'BadRequestError');
  const generate: GenerateRequest = {};
  if (kind === 'chat') {
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      throw new HttpError(400, '`messages` must be a non-empty array.', 'BadRequestError');
    generate.messages = body.messages.map((message, index): ChatMessage => {
      if (
        !isRecord(message) ||
        typeof message.content !== 'string' ||
        !['system', 'user', 'assistant'].includes(String(message.role))
      ) {
        throw new HttpError(
          400,
          `messages[${index}] must have a role (system, user, assistant) and string content.`,
          'BadRequestError',
        );
      }
      return { role: message.role as ChatMessage['role'], content: message.content };
    });
  } else {
    if (typeof body.prompt !== 'string') throw new HttpError(400, '`prompt` must be a string.', 'BadRequestError');
    generate.prompt = body.prompt;
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)
      throw new HttpError(400, `max_tokens must be at least 1, got ${JSON.stringify(maxTokens)}.`, 'BadRequestError');
    generate.maxTokens = maxTokens as number;
  } else {
    generate.maxTokens = 256;
  }
  if (body.temperature !== undefined && body.temperature !== null) {
    if (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)
      throw new HttpError(400, 'temperature must be between 0 and 2.', 'BadRequestError');
    generate.temperature = body.temperature;
  } else {
    generate.temperature = 1;
  }
  if (typeof body.seed === 'number') generate.seed = body.seed;
  if (typeof body.stop === 'string') generate.stop = [body.stop];
  else if (Array.isArray(body.stop))
    generate.stop = body.stop.filter((entry): entry is string => typeof entry === 'string');
  const format = body.response_format;
  if (format !== undefined && format !== null) {
    if (!isRecord(format) || typeof format.type !== 'string')
      throw new HttpError(400, '`response_format` must be an object with a `type`.', 'BadRequestError');
    if (format.type === 'json_schema') {
      const spec = format.json_schema;
      if (!isRecord(spec) || !isRecord(spec.schema))
        throw new HttpError(
          400,
          '`response_format.json_schema.schema` is required for type json_schema.',
          'BadRequestError',
        );
      generate.jsonSchema = spec.schema as JsonSchema;
    } else if (format.type === 'json_object') {
      generate.jsonSchema = { type: 'object' };
    } else if (format.type !== 'text') {
      throw new HttpError(400, `Unknown response_format type "${format.type}".`, 'BadRequestError');
    }
  }
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : undefined;
  return {
    model: body.model,
    generate,
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}

function usageBody(result: GenerateResult): Record<string, number> {
  const prompt = result.usage.promptTokens ?? 0;
  const completion = result.usage.completionTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * vLLM returns a structured output cut at max_tokens as it is (finish_reason "length"); the CoderBackend
 * validates and throws INVALID_OUTPUT instead. Under a grammar a cut is what makes JSON invalid, so the
 * stand-in answers like vLLM: the partial text, finish_reason "length".
 */
function cutStructuredOutput(error: unknown, request: GenerateRequest): GenerateResult | undefined {
  if (!request.jsonSchema || !NerionError.hasCode(error, 'INVALID_OUTPUT') || typeof error.data.output !== 'string')
    return undefined;
  return {
    text: error.data.output,
    finishReason: 'length',
    usage: { completionTokens: request.maxTokens },
    timings: { totalMs: 0 },
    model: '',
    warnings: [],
  };
}

let idCounter = 0;
const nextId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}${(idCounter++).toString(36)}`;

export async function startOpenAICompatibleServer(
  options: OpenAICompatibleServerOptions,
): Promise<OpenAICompatibleServer> {
  const host = options.host ?? '127.0.0.1';
  const contextSize = options.contextSize ?? 2048;
  const version = options.version ?? STAND_IN_VERSION;
  const created = Math.floor(Date.now() / 1000);
  const log = options.log ?? (() => undefined);
  const backends = new Map<string, Promise<CoderBackend>>();
  const requests: Array<{ method: string; path: string; body: unknown }> = [];
  const responses = new Set<ServerResponse>();

  const createBackend =
    options.createBackend ??
    (async (servedModelName: string, modelPath: string): Promise<CoderBackend> => {
      const { createLlamaCppBackend } = await import('@nerion/backend-llamacpp');
      return createLlamaCppBackend({
        model: servedModelName,
        modelPath,
        threads: options.threads ?? 1,
        gpu: false,
        contextSize,
      });
    });

  const backendFor = (model: string): Promise<CoderBackend> => {
    const path = options.models[model];
    if (path === undefined) throw new HttpError(404, `The model \`${model}\` does not exist.`, 'NotFoundError');
    let backend = backends.get(model);
    if (!backend) {
      backend = createBackend(model, path);
      backends.set(model, backend);
    }
    return backend;
  };

  const send = (response: ServerResponse, status: number, body: string, contentType = 'application/json'): void =>
    sendBody(response, status, body, contentType);

  // The waiting queue of maxConcurrentRequests: a slot per generating request, the rest wait in order.
  let freeSlots = options.maxConcurrentRequests ?? Number.POSITIVE_INFINITY;
  const waiting: Array<() => void> = [];
  const takeSlot = (): Promise<void> => {
    if (freeSlots > 0) {
      freeSlots -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const releaseSlot = (): void => {
    const next = waiting.shift();
    if (next) next();
    else freeSlots += 1;
  };

  async function complete(
    kind: 'chat' | 'completion',
    body: unknown,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    await takeSlot();
    try {
      await generateAnswer(kind, body, request, response);
    } finally {
      releaseSlot();
    }
  }

  async function generateAnswer(
    kind: 'chat' | 'completion',
    body: unknown,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const parsed = parseCompletionRequest(body, kind);
    const backend = await backendFor(parsed.model);
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const generate: GenerateRequest = { seed: options.seed ?? 0, ...parsed.generate, signal: abort.signal };
    if (options.ignoreResponseFormat) delete generate.jsonSchema;
    const id = nextId(kind === 'chat' ? 'chatcmpl' : 'cmpl');
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    log(
      `INFO:     ${request.socket.remoteAddress}:${request.socket.remotePort} - "POST ${request.url} HTTP/1.1" ${parsed.stream ? 'stream' : ''}`,
    );

    if (!parsed.stream) {
      const result = await backend.generate(generate).catch((error: unknown) => {
        const cut = cutStructuredOutput(error, generate);
        if (cut) return cut;
        throw error;
      });
      const choice =
        kind === 'chat'
          ? {
              index: 0,
              message: { role: 'assistant', content: result.text, tool_calls: [] },
              logprobs: null,
              finish_reason: result.finishReason,
              stop_reason: null,
            }
          : { index: 0, text: result.text, logprobs: null, finish_reason: result.finishReason, stop_reason: null };
      send(
        response,
        200,
        JSON.stringify({
          id,
          object,
          created: Math.floor(Date.now() / 1000),
          model: parsed.model,
          choices: [choice],
          usage: usageBody(result),
        }),
      );
      return;
    }

    const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const chunkCreated = Math.floor(Date.now() / 1000);
    const write = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
      response.write(
        `data: ${JSON.stringify({ id, object: chunkObject, created: chunkCreated, model: parsed.model, choices, ...extra })}\n\n`,
      );
    };
    const contentChoice = (text: string, finishReason: string | null): unknown =>
      kind === 'chat'
        ? {
            index: 0,
            delta: finishReason === null ? { content: text } : text ? { content: text } : {},
            logprobs: null,
            finish_reason: finishReason,
          }
        : { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null };

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.flushHeaders();
    if (kind === 'chat')
      write([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    let chunks = 0;
    let streamedText = '';
    let result: GenerateResult | undefined;
    try {
      for await (const part of backend.stream(generate)) {
        if (part.type === 'text-delta') {
          streamedText += part.text;
          write([contentChoice(part.text, null)]);
          chunks += 1;
          if (options.dieMidStreamAfterChunks !== undefined && chunks >= options.dieMidStreamAfterChunks) {
            log('ERROR:    stand-in: dying mid-stream as configured');
            abort.abort(new Error('dying mid-stream'));
            response.socket?.destroy();
            return;
          }
          if (options.errorMidStreamAfterChunks !== undefined && chunks >= options.errorMidStreamAfterChunks) {
            throw new Error('stand-in: engine failure injected mid-stream (errorMidStreamAfterChunks)');
          }
        } else if (part.type === 'finish') {
          result = part.result;
        }
      }
    } catch (error) {
      if (abort.signal.aborted) return; // the client went away; nothing to tell it
      const cut = cutStructuredOutput(error, generate);
      if (cut) {
        // The deltas already sent are the text; only the finish is left to say.
        if (cut.text.startsWith(streamedText) && cut.text.length > streamedText.length)
          write([contentChoice(cut.text.slice(streamedText.length), null)]);
        result = cut;
      } else {
        // vLLM reports an error inside an open stream as a data chunk with an error object, then [DONE].
        response.write(
          `data: ${JSON.stringify({ error: { object: 'error', message: (error as Error).message, type: 'InternalServerError', code: 500 } })}\n\n`,
        );
        response.end('data: [DONE]\n\n');
        return;
      }
    }
    write([contentChoice('', result!.finishReason)]);
    if (parsed.includeUsage) write([], { usage: usageBody(result!) });
    response.end('data: [DONE]\n\n');
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === '/health') return send(response, 200, '', 'text/plain');
    if (method === 'GET' && path === '/version') return send(response, 200, JSON.stringify({ version }));
    if (method === 'GET' && path === '/v1/models') {
      const data = Object.entries(options.models).map(([id, modelPath]) => ({
        id,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: modelPath,
        parent: null,
        max_model_len: contextSize,
        permission: [],
      }));
      return send(response, 200, JSON.stringify({ object: 'list', data }));
    }
    if (method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/completions')) {
      const body = await readJson(request);
      requests.push({ method, path, body });
      return complete(path === '/v1/chat/completions' ? 'chat' : 'completion', body, request, response);
    }
    throw new HttpError(404, `Not Found: ${method} ${path}`, 'NotFoundError');
  }

  const server: Server = createServer((request, response) => {
    responses.add(response);
    response.on('close', () => responses.delete(response));
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const type = error instanceof HttpError ? error.type : 'InternalServerError';
      const message = error instanceof Error ? error.message : String(error);
      if (status === 500) log(`ERROR:    ${message}`);
      if (!response.headersSent) send(response, status, errorBody(status, type, message));
      else response.destroy();
    });
  });

  if (options.startupDelayMs) {
    log(`INFO:     stand-in: loading models for ${options.startupDelayMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, options.startupDelayMs));
  }
  const port = await listen(server, options.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`INFO:     Uvicorn running on ${url} (Press CTRL+C to quit)`);

  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    requests,
    close(): Promise<void> {
      closing ??= (async () => {
        for (const response of responses) response.destroy();
        server.closeAllConnections();
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
        const loaded = await Promise.allSettled([...backends.values()]);
        for (const outcome of loaded) if (outcome.status === 'fulfilled') await outcome.value.close();
      })();
      return closing;
    },
  };
}

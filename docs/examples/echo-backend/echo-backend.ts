/**
 * A fourth-party backend, written against `@nerion/backend-core` alone: "acme", an engine that echoes the last
 * message back word by word (one word is one token). It shows what a backend owes the spec — probe that never
 * throws, typed errors, maxTokens/stop/abort/timeout, a stream whose text equals generate()'s, constrained JSON,
 * close() — and it passes the CoderBackend v1 contract suite (./echo-backend.spec.ts, run by `npm test`).
 */
import {
  CODER_BACKEND_SPECIFICATION_VERSION,
  DEFAULT_MAX_TOKENS,
  NerionError,
  RequestLifecycle,
  applyStopSequences,
  collectStream,
  formatPlainPrompt,
  raceAbort,
  validateGenerateRequest,
  validateJsonSchema,
  type CoderBackend,
  type GenerateRequest,
  type GenerateResult,
  type JsonSchema,
  type ProbeResult,
  type StreamPart,
} from '@nerion/backend-core';

export interface AcmeBackendSettings {
  /** The model to answer as; it must be one of `models`. */
  model: string;
  /** The models this engine "has" (default: `['acme-echo']`); an empty list is an engine with nothing to serve. */
  models?: readonly string[];
  /** Delay between tokens, so streaming and abort are observable (default 5 ms). */
  tokenDelayMs?: number;
}

/** What an acme probe reports beyond the common fields. */
export type AcmeProbeFacts = { readonly tokenDelayMs: number };

export function createAcmeBackend(settings: AcmeBackendSettings): CoderBackend {
  const models = settings.models ?? ['acme-echo'];
  const tokenDelayMs = settings.tokenDelayMs ?? 5;
  let closed = false;

  const ensureUsable = (): void => {
    if (closed) throw new NerionError('BACKEND_CLOSED', `The acme backend for "${settings.model}" was closed.`);
    if (models.length === 0)
      throw new NerionError('BACKEND_UNREACHABLE', 'The acme engine serves no models; give it some in `models`.');
    if (!models.includes(settings.model))
      throw new NerionError('MODEL_NOT_FOUND', `acme has no model "${settings.model}"; it has ${models.join(', ')}.`);
  };

  async function* stream(request: GenerateRequest): AsyncIterable<StreamPart> {
    validateGenerateRequest(request);
    ensureUsable();
    const lifecycle = new RequestLifecycle(request);
    try {
      lifecycle.throwIfAborted();
      const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
      // The "model": with a schema, the smallest value that satisfies it (constrained decoding); else an echo
      // of the prompt, repeated without end (so only maxTokens, stop, abort or a timeout ends it).
      const words = request.jsonSchema
        ? [JSON.stringify(smallestInstance(request.jsonSchema))]
        : echoWords(request.messages ? formatPlainPrompt(request.messages) : (request.prompt ?? ''));
      let text = '';
      let tokens = 0;
      let finishReason: GenerateResult['finishReason'] = request.jsonSchema ? 'stop' : 'length';
      for (const word of words) {
        if (tokens === maxTokens) {
          finishReason = 'length';
          break;
        }
        await raceAbort(sleep(tokenDelayMs), lifecycle.signal);
        const next = `${tokens === 0 ? '' : ' '}${word}`;
        const cut = applyStopSequences(text + next, request.stop ?? []);
        if (cut.stopped) {
          if (cut.text.length > text.length) yield { type: 'text-delta', text: cut.text.slice(text.length) };
          text = cut.text;
          finishReason = 'stop';
          break;
        }
        text += next;
        tokens += 1;
        yield { type: 'text-delta', text: next };
      }
      const totalMs = Math.max(lifecycle.elapsedMs, 0.001);
      yield {
        type: 'finish',
        result: {
          text,
          ...(request.jsonSchema ? { json: JSON.parse(text) as unknown } : {}),
          finishReason,
          usage: { completionTokens: tokens },
          timings: { totalMs },
          model: settings.model,
          warnings: [],
        },
      };
    } catch (error) {
      throw lifecycle.toError(error);
    } finally {
      lifecycle.dispose();
    }
  }

  return {
    specificationVersion: CODER_BACKEND_SPECIFICATION_VERSION,
    id: 'acme',
    model: settings.model,
    supportsConstrainedDecoding: true,
    async probe(): Promise<ProbeResult<AcmeProbeFacts>> {
      if (closed) return { available: false, reason: 'This acme backend was closed; create a new one.' };
      if (models.length === 0)
        return { available: false, reachable: false, reason: 'The acme engine serves no models; give it some.' };
      const modelAvailable = models.includes(settings.model);
      return {
        available: true,
        reachable: true,
        models,
        modelAvailable,
        ...(modelAvailable ? {} : { reason: `acme has no model "${settings.model}"; it has ${models.join(', ')}.` }),
        facts: { tokenDelayMs },
      };
    },
    generate: (request) => collectStream(stream(request)),
    stream,
    async close() {
      closed = true;
    },
  };
}

function* echoWords(prompt: string): Generator<string> {
  const words = prompt.split(/\s+/).filter(Boolean);
  if (words.length === 0) words.push('…');
  for (;;) yield* words;
}

/** The smallest value a (bounded) schema accepts: the first enum/const option, false, 0, "", [] or required fields. */
function smallestInstance(schema: JsonSchema): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const options = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (options?.length) return smallestInstance(options[0]);
  const type = Array.isArray(schema.type) ? (schema.type[0] as string) : (schema.type as string | undefined);
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const value = Object.fromEntries(required.map((name) => [name, smallestInstance(properties[name] ?? {})]));
      if (validateJsonSchema(schema, value).length > 0)
        throw new NerionError('INVALID_REQUEST', 'The acme engine cannot satisfy this schema.');
      return value;
    }
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'number':
    case 'integer':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'string':
      return 'x'.repeat(typeof schema.minLength === 'number' ? schema.minLength : 0);
    default:
      return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The local exllamav2 backend: a Python bridge child (see bridge-process.ts) that loads
 * EXLLAMA_MODEL_DIR with ExLlamaV2Config / ExLlamaV2 / ExLlamaV2Cache / ExLlamaV2Tokenizer and
 * streams with ExLlamaV2DynamicGenerator + ExLlamaV2DynamicJob.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  CODER_BACKEND_SPECIFICATION_VERSION,
  DEFAULT_MAX_TOKENS,
  NerionError,
  RequestLifecycle,
  collectStream,
  describeError,
  formatPlainPrompt,
  AsyncChannel,
  extractJsonText,
  parseJsonOutput,
  validateGenerateRequest,
  type ChatMessage,
  type CoderBackend,
  type GenerateRequest,
  type GenerateResult,
  type ProbeOptions,
  type ProbeResult,
  type SpawnFunction,
  type StreamPart,
  raceAbort,
} from '@nerion/backend-core';
import * as v from 'valibot';
import { BridgeProcess } from './bridge-process.js';
import {
  DoneSchema,
  DeltaSchema,
  LoadedSchema,
  type BridgeDone,
  type BridgeEvent,
  type BridgeHello,
  type BridgeLoaded,
} from './bridge-protocol.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export interface ExllamaBridgeBackendSettings {
  /** The model name this backend answers to (a label; the folder decides what runs). */
  model: string;
  /** The EXL2 model folder (EXLLAMA_MODEL_DIR). */
  modelDir: string | undefined;
  /** The Python interpreter (NERION_PYTHON; default `python3`). */
  python?: string;
  /** The bridge script; default: `python/nerion_exl_bridge.py` shipped in this package. */
  scriptPath?: string;
  /** The bridge's whole environment; default: inherit this process's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  spawn?: SpawnFunction;
  /** Context length to allocate the cache for (default: the model's own). */
  maxSeqLen?: number;
  /** Bound of probe() (default 2000 ms; the first import of torch can take longer — probe again). */
  probeTimeoutMs?: number;
  /** How long a cancelled generation may take to stop before the bridge is killed (default 1000 ms). */
  cancelGraceMs?: number;
  /** Called once per backend with the warning about missing or incompatible bindings. */
  onWarning?: (message: string) => void;
}

/** What `exllamav2` reported through the bridge: the part of probe() a doctor shows. */
export interface ExllamaBindingsReport {
  python: string;
  exllamav2Available: boolean;
  exllamav2Version: string | undefined;
  jsonFilter: string | undefined;
  installHint: string | undefined;
}

interface LoadedModel {
  generation: number;
  info: BridgeLoaded;
}

type Attempt = { type: 'delta'; text: string } | { type: 'done'; done: BridgeDone };

export class ExllamaBridgeBackend implements CoderBackend {
  readonly specificationVersion = CODER_BACKEND_SPECIFICATION_VERSION;
  readonly id = 'exllamav2' as const;
  readonly model: string;
  private readonly bridge: BridgeProcess;
  private readonly python: string;
  private lastHello: BridgeHello | undefined;
  private loaded: LoadedModel | undefined;
  private loading: { generation: number; promise: Promise<BridgeLoaded> } | undefined;
  private warned = false;
  private closed = false;

  constructor(private readonly settings: ExllamaBridgeBackendSettings) {
    this.model = settings.model;
    this.python = settings.python ?? 'python3';
    this.bridge = new BridgeProcess({
      python: this.python,
      scriptPath: settings.scriptPath,
      env: settings.env,
      spawn: settings.spawn,
      cancelGraceMs: settings.cancelGraceMs,
    });
  }

  /** True once the bridge reported an importable JSON filter (lm-format-enforcer); false before the first probe/generate. */
  get supportsConstrainedDecoding(): boolean {
    return this.lastHello?.jsonFilter.available ?? false;
  }

  /** The bridge child's pid while it runs (for tests and `doctor`). */
  get bridgePid(): number | undefined {
    return this.bridge.pid;
  }

  async probe(options: ProbeOptions = {}): Promise<ProbeResult> {
    if (this.closed) return { available: false, reason: 'This exllamav2 backend was closed; create a new one.' };
    const timeoutMs = options.timeoutMs ?? this.settings.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    let hello: BridgeHello;
    try {
      hello = await bounded(
        this.hello(),
        timeoutMs,
        options.signal,
        () =>
          new NerionError(
            'TIMEOUT',
            `The exllamav2 bridge (${this.python}) did not answer within ${timeoutMs} ms (the first import of torch can be slow); probe again in a moment.`,
          ),
      );
    } catch (error) {
      return { available: false, reason: describeError(error), facts: { python: this.python } };
    }
    const facts = {
      python: this.python,
      pythonVersion: hello.python,
      executable: hello.executable ?? undefined,
      exllamav2: hello.exllamav2.available,
      jsonFilter: hello.jsonFilter.engine ?? null,
      modelDir: this.settings.modelDir,
      bridgePid: this.bridge.pid,
    };
    if (!hello.exllamav2.available) {
      return { available: false, reason: this.bindingsMessage(hello), facts };
    }
    const version = hello.exllamav2.version;
    const modelProblem = this.modelDirProblem();
    if (modelProblem)
      return {
        available: true,
        modelAvailable: false,
        reason: modelProblem,
        models: [],
        ...(version ? { version } : {}),
        facts,
      };
    return { available: true, modelAvailable: true, models: [this.model], ...(version ? { version } : {}), facts };
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return collectStream(this.stream(request));
  }

  async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    if (this.closed) throw closedError();
    validateGenerateRequest(request);
    const lifecycle = new RequestLifecycle(request, 'exllamav2 generation');
    try {
      lifecycle.throwIfAborted();
      const { info, loadMs } = await this.ensureLoaded(lifecycle.signal);
      const constrained = request.jsonSchema !== undefined && this.supportsConstrainedDecoding;
      const warnings: string[] = [];
      if (request.jsonSchema === undefined || constrained) {
        let text = '';
        let firstTextMs: number | undefined;
        let done: BridgeDone | undefined;
        for await (const part of this.attempt(this.bridgeRequest(request, constrained), lifecycle)) {
          if (part.type === 'delta') {
            firstTextMs ??= lifecycle.elapsedMs;
            text += part.text;
            yield { type: 'text-delta', text: part.text };
          } else done = part.done;
        }
        warnings.push(...(done!.warnings ?? []));
        for (const warning of done!.warnings ?? []) yield { type: 'warning', message: warning };
        const json = request.jsonSchema
          ? parseJsonOutput(text, request.jsonSchema, `exllamav2 (${info.model}, JSON filter)`)
          : undefined;
        yield {
          type: 'finish',
          result: this.result(text, json, done!, done!, firstTextMs, loadMs, lifecycle, warnings),
        };
        return;
      }
      // No JSON filter installed: generate, validate, and try one repair; the text is emitted once it is valid.
      const schema = request.jsonSchema;
      const filterWarning =
        "exllamav2 has no JSON filter here (install lm-format-enforcer into the bridge's Python for constrained decoding); the output was validated after generation.";
      warnings.push(filterWarning);
      yield { type: 'warning', message: filterWarning };
      let firstDone: BridgeDone | undefined;
      let lastDone: BridgeDone | undefined;
      let previous: { text: string; problem: string } | undefined;
      for (let attemptNumber = 1; attemptNumber <= 2; attemptNumber++) {
        let text = '';
        for await (const part of this.attempt(
          this.bridgeRequest(jsonRequest(request, schema, previous), false),
          lifecycle,
        )) {
          if (part.type === 'delta') text += part.text;
          else lastDone = part.done;
        }
        firstDone ??= lastDone;
        const candidate = extractJsonText(text);
        try {
          const json = parseJsonOutput(candidate, schema, `exllamav2 (${info.model})`);
          if (attemptNumber > 1)
            warnings.push('The first reply did not match the JSON schema; one repair attempt fixed it.');
          warnings.push(...(lastDone!.warnings ?? []));
          yield { type: 'text-delta', text: candidate };
          const usage = {
            promptTokens: (firstDone!.promptTokens ?? 0) + (attemptNumber > 1 ? (lastDone!.promptTokens ?? 0) : 0),
            completionTokens:
              (firstDone!.completionTokens ?? 0) + (attemptNumber > 1 ? (lastDone!.completionTokens ?? 0) : 0),
          };
          yield {
            type: 'finish',
            result: this.result(candidate, json, lastDone!, usage, lifecycle.elapsedMs, loadMs, lifecycle, warnings),
          };
          return;
        } catch (error) {
          if (!NerionError.hasCode(error, 'INVALID_OUTPUT') || attemptNumber === 2) {
            if (NerionError.hasCode(error, 'INVALID_OUTPUT')) {
              throw new NerionError(
                'INVALID_OUTPUT',
                `${error.message} (after one repair attempt; install lm-format-enforcer into the bridge's Python for constrained decoding, or use a backend with strict JSON)`,
                {
                  cause: error,
                  data: error.data,
                },
              );
            }
            throw error;
          }
          previous = { text, problem: error.message };
        }
      }
    } catch (error) {
      throw lifecycle.toError(error);
    } finally {
      lifecycle.dispose();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.loaded = undefined;
    this.loading = undefined;
    await this.bridge.stop();
  }

  // --- internals ---------------------------------------------------------------------------

  private async hello(): Promise<BridgeHello> {
    const hello = await this.bridge.hello();
    this.lastHello = hello;
    if (!hello.exllamav2.available) this.warnOnce(this.bindingsMessage(hello));
    return hello;
  }

  private bindingsMessage(hello: BridgeHello): string {
    return (
      hello.installHint ??
      `The Python module \`exllamav2\` is not usable from ${this.python} (${hello.exllamav2.error ?? 'unknown reason'}); install it with \`${this.python} -m pip install exllamav2\` or set NERION_PYTHON.`
    );
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.settings.onWarning?.(message);
  }

  private modelDirProblem(): string | undefined {
    const dir = this.settings.modelDir;
    if (!dir) {
      return `No exllamav2 model folder is configured for "${this.model}" — set EXLLAMA_MODEL_DIR to a folder holding an EXL2 model (config.json and *.safetensors), or set NERION_AUTOSTART_EXL=1 with NERION_ALLOW_NETWORK=1 to fetch the catalog's build.`;
    }
    if (!existsSync(join(dir, 'config.json'))) {
      return `No exllamav2 model at ${dir} (config.json is missing) — point EXLLAMA_MODEL_DIR at an EXL2 model folder, or prepare it with NERION_AUTOSTART_EXL=1 and NERION_ALLOW_NETWORK=1.`;
    }
    return undefined;
  }

  /** Spawns the bridge if needed, checks the bindings, and loads the model once per bridge child. */
  private async ensureLoaded(signal: AbortSignal): Promise<{ info: BridgeLoaded; loadMs: number | undefined }> {
    const hello = await raceAbort(this.hello(), signal);
    if (!hello.exllamav2.available)
      throw new NerionError('BINDINGS_UNAVAILABLE', this.bindingsMessage(hello), {
        data: { python: this.python, error: hello.exllamav2.error },
        // The install command is in the message (the bridge's hint differs for missing and outdated bindings).
        fix: { settings: ['NERION_PYTHON'] },
      });
    const generation = this.bridge.childGeneration;
    if (this.loaded?.generation === generation) return { info: this.loaded.info, loadMs: undefined };
    const problem = this.modelDirProblem();
    if (problem)
      throw new NerionError('MODEL_NOT_FOUND', problem, {
        data: { modelDir: this.settings.modelDir, model: this.model },
        fix: { settings: ['EXLLAMA_MODEL_DIR', 'NERION_AUTOSTART_EXL', 'NERION_ALLOW_NETWORK'] },
      });
    if (this.loading?.generation !== generation) {
      const promise = this.bridge
        .request('load', {
          modelDir: this.settings.modelDir,
          ...(this.settings.maxSeqLen ? { maxSeqLen: this.settings.maxSeqLen } : {}),
        })
        .then((event) => {
          const parsed = v.safeParse(LoadedSchema, event);
          if (!parsed.success)
            throw new NerionError(
              'BACKEND_ERROR',
              `The exllamav2 bridge answered load with an unexpected shape (${v.summarize(parsed.issues)}).`,
            );
          if (this.bridge.childGeneration === generation) this.loaded = { generation, info: parsed.output };
          return parsed.output;
        });
      promise.catch(() => {
        if (this.loading?.promise === promise) this.loading = undefined;
      });
      this.loading = { generation, promise };
    }
    const info = await raceAbort(this.loading.promise, signal);
    return { info, loadMs: info.loadMs };
  }

  private bridgeRequest(request: GenerateRequest, constrained: boolean): Record<string, unknown> {
    return {
      ...(request.prompt !== undefined
        ? { prompt: request.prompt }
        : { messages: request.messages, fallbackPrompt: formatPlainPrompt(request.messages ?? []) }),
      maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: request.temperature ?? 0,
      stop: request.stop ?? [],
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(constrained && request.jsonSchema ? { jsonSchema: request.jsonSchema } : {}),
    };
  }

  /** One generate request on the bridge, as an async sequence of deltas and one done; abort cancels it. */
  private async *attempt(body: Record<string, unknown>, lifecycle: RequestLifecycle): AsyncGenerator<Attempt> {
    const channel = new AsyncChannel<Attempt>();
    const pending = this.bridge.request('generate', body, (event: BridgeEvent) => {
      const delta = v.safeParse(DeltaSchema, event);
      if (delta.success && delta.output.text) channel.push({ type: 'delta', text: delta.output.text });
    });
    pending.then(
      (event) => {
        const done = v.safeParse(DoneSchema, event);
        if (done.success) channel.push({ type: 'done', done: done.output });
        else
          channel.fail(
            new NerionError(
              'BACKEND_ERROR',
              `The exllamav2 bridge ended a generation with an unexpected event (${v.summarize(done.issues)}).`,
            ),
          );
      },
      (error: unknown) => channel.fail(error),
    );
    const onAbort = (): void => {
      this.bridge.cancel(pending.id);
      channel.fail(lifecycle.signal.reason);
    };
    if (lifecycle.signal.aborted) onAbort();
    lifecycle.signal.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      for await (const part of channel) {
        if (part.type === 'done') finished = true;
        yield part;
        if (finished) return;
      }
    } finally {
      lifecycle.signal.removeEventListener('abort', onAbort);
      // A consumer that stopped early (or a failure on our side) must not leave the engine generating.
      if (!finished && !lifecycle.signal.aborted) this.bridge.cancel(pending.id);
    }
  }

  private result(
    text: string,
    json: unknown,
    done: BridgeDone,
    usage: { promptTokens?: number; completionTokens?: number },
    firstTextMs: number | undefined,
    loadMs: number | undefined,
    lifecycle: RequestLifecycle,
    warnings: readonly string[],
  ): GenerateResult {
    const totalMs = Math.max(lifecycle.elapsedMs, 0.001);
    const decodeTokensPerSecond =
      done.generateMs && done.prefillMs !== undefined && done.completionTokens && done.generateMs > done.prefillMs
        ? (done.completionTokens * 1000) / (done.generateMs - done.prefillMs)
        : undefined;
    return {
      text,
      ...(json !== undefined ? { json } : {}),
      finishReason: done.finishReason,
      usage: { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens },
      timings: {
        totalMs,
        ...(firstTextMs !== undefined ? { timeToFirstTokenMs: Math.min(firstTextMs, totalMs) } : {}),
        ...(loadMs !== undefined ? { loadMs } : {}),
        ...(decodeTokensPerSecond !== undefined ? { decodeTokensPerSecond } : {}),
      },
      model: this.loaded?.info.model ?? (this.settings.modelDir ? basename(this.settings.modelDir) : this.model),
      warnings: [...warnings],
    };
  }
}

function closedError(): NerionError {
  return new NerionError('BACKEND_CLOSED', 'This exllamav2 backend was closed; create a new one to generate again.');
}

/** The request for a JSON attempt without a filter: the schema is stated, and a repair quotes the problem. */
function jsonRequest(
  request: GenerateRequest,
  schema: object,
  previous: { text: string; problem: string } | undefined,
): GenerateRequest {
  const instruction = `Reply with only one JSON value that matches this JSON Schema, and nothing else: ${JSON.stringify(schema)}`;
  const messages: ChatMessage[] = request.messages
    ? [...request.messages]
    : [{ role: 'user', content: request.prompt ?? '' }];
  messages.unshift({ role: 'system', content: instruction });
  if (previous) {
    messages.push({ role: 'assistant', content: previous.text });
    messages.push({ role: 'user', content: `That reply is not valid: ${previous.problem}. ${instruction}` });
  }
  return { ...request, prompt: undefined, messages };
}

function bounded<T>(
  promise: Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    timer.unref?.();
    raceAbort(promise, signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

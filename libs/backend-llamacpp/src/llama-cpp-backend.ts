/**
 * `createLlamaCppBackend(settings)`: CoderBackend v1 on node-llama-cpp, in process.
 * The model is loaded once per process and path (see llama-runtime.ts); each backend owns one context
 * with one sequence, and its calls take turns on it. Every call starts from an empty sequence, so the
 * same greedy request gives the same text whatever ran before.
 */
import {
  CODER_BACKEND_SPECIFICATION_VERSION,
  DEFAULT_MAX_TOKENS,
  AsyncChannel,
  NerionError,
  RequestLifecycle,
  collectStream,
  describeError,
  formatPlainPrompt,
  parseJsonOutput,
  validateGenerateRequest,
  type CoderBackend,
  type GenerateRequest,
  type GenerateResult,
  type JsonSchema,
  type ProbeOptions,
  type ProbeResult,
  type StreamPart,
  raceAbort,
  tokenLimitAdvice,
} from '@nerion/backend-core';
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaCompletion,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaText,
  Token,
} from 'node-llama-cpp';
import { Mutex } from './mutex.js';
import { ModelLease, checkModelFile, sharedLlama, type GpuSetting, type LoadedModel } from './llama-runtime.js';
import type { LlamaBuildSetting } from './llama-build.js';
import { checkGgufMagic, checkModelPath, readGgufSummary, type GgufSummary } from './model-file.js';
import { chooseThreadCount, detectCpuBudget, type CpuBudget } from './thread-count.js';
import {
  machineIdentity,
  readCachedThreadChoice,
  setContextThreads,
  threadCacheKey,
  tuneThreads,
  type ThreadChoice,
  type ThreadSample,
} from './thread-tuning.js';

/** What a llama_cpp probe reports beyond the common fields. */
export type LlamaCppProbeFacts = {
  /** The GGUF file. */
  readonly file?: string;
  /** The error code when the probe failed on the file or the runtime. */
  readonly errorCode?: string;
  readonly sizeBytes?: number;
  readonly architecture?: string;
  readonly name?: string;
  readonly contextLength?: number;
  readonly chatTemplate?: boolean;
  /** `cpu`, the GPU kind (`cuda`, `metal`, `vulkan`), or `unknown` while llama.cpp is still starting. */
  readonly device?: string;
  readonly gpuDevices?: readonly string[];
  /** Threads for decode steps (absent while `threadsSource` is `pending`). */
  readonly threads?: number;
  /** Threads for prompt batches. */
  readonly promptThreads?: number;
  /** settings (NERION_LLAMA_THREADS), rule (usable cores − 1), measured (now), cached, or pending (measured on first load). */
  readonly threadsSource?: ThreadChoice['source'] | 'pending';
  /** ISO time the counts were measured. */
  readonly threadsMeasuredAt?: string;
  /** The 1-minute load average then. */
  readonly threadsMeasuredLoadAverage?: number;
  readonly threadSamples?: readonly ThreadSample[];
  readonly threadsCacheFile?: string;
  readonly cpuBudget?: CpuBudget;
  readonly loaded?: boolean;
  /** Other labels sharing this backend's loaded model. */
  readonly sharedWith?: readonly string[];
  readonly bindings?: string;
};

export interface LlamaCppBackendSettings {
  /** The model name this backend answers to. With a file path given, it is a label (spec §2). */
  model: string;
  /** The GGUF file to run. */
  modelPath: string | undefined;
  /**
   * llama.cpp threads for prompt batches and decode steps (NERION_LLAMA_THREADS). Default: measured on the
   * first load of the model file on this machine (see `threadCacheDir`), one count for each phase.
   */
  threads?: number;
  /**
   * Where measured thread counts are cached (`llama-threads.json`), so later loads are instant. Without it
   * they are measured once per process.
   */
  threadCacheDir?: string;
  /** false: no measurement; the usable cores (affinity, cgroup quota, physical cores) minus one. Default true. */
  tuneThreads?: boolean;
  /** `'auto'` (default): a GPU when node-llama-cpp finds one, else the CPU. `false`: CPU only. */
  gpu?: 'auto' | false;
  /**
   * Which llama.cpp binaries (NERION_LLAMA_BUILD). `'auto'` (default): nerion's patched build when
   * `nerion doctor --build-llama` made one, else node-llama-cpp's prebuilt binaries; `'prebuilt'`: always those.
   */
  llamaBuild?: LlamaBuildSetting;
  /** Context window in tokens. Default: the model's trained context length, at most 8192. */
  contextSize?: number;
  /** Memory the weights may take (bytes); default: physical memory or the cgroup limit, whichever is smaller. */
  memoryLimitBytes?: number;
  /** Upper bound for probe() when the caller gives none (default 2000 ms). */
  probeTimeoutMs?: number;
}

const DEFAULT_CONTEXT_CAP = 8192;

interface SessionState {
  loaded: LoadedModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  /** The model's own chat template, or undefined when the GGUF has none. */
  chatWrapper: ChatWrapper | undefined;
  contextSize: number;
  threads: ThreadChoice;
  /** Whether prompt batches can run with their own thread count (node-llama-cpp internals present). */
  splitThreads: boolean;
}

export function createLlamaCppBackend(settings: LlamaCppBackendSettings): CoderBackend {
  return new LlamaCppBackend(settings);
}

class LlamaCppBackend implements CoderBackend {
  readonly specificationVersion = CODER_BACKEND_SPECIFICATION_VERSION;
  readonly id = 'llama_cpp' as const;
  readonly supportsConstrainedDecoding = true;
  readonly model: string;

  private readonly gpu: GpuSetting;
  private readonly cpuBudget: CpuBudget;
  /** The thread counts by rule, used when measuring is off (or for a GPU). */
  private readonly ruleThreads: number;
  /** The counts in use once the model is loaded. */
  private threadChoice: ThreadChoice | undefined;
  private readonly lease: ModelLease | undefined;
  private readonly mutex = new Mutex();
  private readonly closeController = new AbortController();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private state: Promise<SessionState> | undefined;
  private closing: Promise<void> | undefined;

  /** The GGUF header read by the last probe whose file checks passed. */
  private checkedSummary: GgufSummary | undefined;

  constructor(private readonly settings: LlamaCppBackendSettings) {
    if (!settings.model || settings.model.trim() === '')
      throw new NerionError(
        'CONFIG_INVALID',
        'createLlamaCppBackend needs a model name (the label this backend answers to).',
      );
    if (settings.threads !== undefined && (!Number.isInteger(settings.threads) || settings.threads < 1)) {
      throw new NerionError(
        'CONFIG_INVALID',
        `llama_cpp threads must be a positive whole number, got ${String(settings.threads)} — fix NERION_LLAMA_THREADS or the threads setting.`,
        { fix: { settings: ['NERION_LLAMA_THREADS'] } },
      );
    }
    if (settings.contextSize !== undefined && (!Number.isInteger(settings.contextSize) || settings.contextSize < 16)) {
      throw new NerionError(
        'CONFIG_INVALID',
        `llama_cpp contextSize must be a whole number of at least 16 tokens, got ${String(settings.contextSize)}.`,
      );
    }
    this.model = settings.model;
    this.gpu = settings.gpu === false ? false : 'auto';
    this.cpuBudget = detectCpuBudget();
    this.ruleThreads = chooseThreadCount(this.cpuBudget);
    // No path: nothing to lease; every call explains how to configure one.
    this.lease = settings.modelPath
      ? ModelLease.acquire({
          path: settings.modelPath,
          label: settings.model,
          gpu: this.gpu,
          build: settings.llamaBuild ?? 'auto',
          memoryLimitBytes: settings.memoryLimitBytes,
        })
      : undefined;
  }

  private get closed(): boolean {
    return this.closing !== undefined;
  }

  private closedError(): NerionError {
    return new NerionError(
      'BACKEND_CLOSED',
      `The llama_cpp backend for "${this.model}" was closed; create a new one to generate again.`,
    );
  }

  async probe(options: ProbeOptions = {}): Promise<ProbeResult<LlamaCppProbeFacts>> {
    if (this.closed)
      return { available: false, reason: `The llama_cpp backend for "${this.model}" was closed; create a new one.` };
    const timeoutMs = options.timeoutMs ?? this.settings.probeTimeoutMs ?? 2000;
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const timer = setTimeout(
      () => controller.abort(new NerionError('TIMEOUT', `probe timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      return await raceAbort(this.probeUnbounded(performance.now() + timeoutMs * 0.8), signal);
    } catch (error) {
      // The first start of llama.cpp loads its native library synchronously, which can hold the event loop
      // past the deadline on a busy machine: when the file checks already passed, they answer the probe.
      const checked = this.checkedSummary;
      if (NerionError.hasCode(error, 'TIMEOUT') && checked !== undefined)
        return this.probeResult(checked, undefined, this.lease?.current);
      if (NerionError.isInstance(error)) {
        const reason =
          error.code === 'TIMEOUT'
            ? `The llama_cpp probe did not finish within ${timeoutMs} ms (starting llama.cpp or reading ${this.settings.modelPath}) — try again; the first start of llama.cpp in a process takes about a second.`
            : error.message;
        return {
          available: false,
          reason,
          models: [this.model],
          ...(error.code === 'MODEL_NOT_FOUND' ? { modelAvailable: false } : {}),
          facts: { file: this.settings.modelPath, errorCode: error.code },
        };
      }
      return {
        available: false,
        reason: `The llama_cpp probe failed: ${describeError(error)}.`,
        facts: { file: this.settings.modelPath },
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private async probeUnbounded(deadline: number): Promise<ProbeResult<LlamaCppProbeFacts>> {
    // llama.cpp's first start in a process takes ~1 s (longer on a busy machine): start it now, but let the
    // file checks answer the probe when the bindings are still starting at the deadline.
    const starting = sharedLlama(this.gpu, this.settings.llamaBuild ?? 'auto');
    let summary: GgufSummary;
    const current = this.lease?.current;
    if (current) summary = current.summary;
    else {
      const { path, sizeBytes } = await checkModelPath(this.settings.modelPath, this.model);
      await checkGgufMagic(path, this.model);
      summary = (await readGgufSummary(path, sizeBytes, this.model)).summary;
    }
    this.checkedSummary = summary;
    const pending = Symbol('pending');
    const started = await Promise.race([
      starting,
      new Promise<typeof pending>((resolve) =>
        setTimeout(() => resolve(pending), Math.max(0, deadline - performance.now())).unref?.(),
      ),
    ]);
    const llama = started === pending ? undefined : started;
    // With llama.cpp up, the rest of the load's checks run too (weights inside the file, enough memory).
    if (llama !== undefined && !current)
      await checkModelFile(summary.path, this.model, llama, this.settings.memoryLimitBytes);
    return this.probeResult(summary, llama, current);
  }

  /** The probe's answer from the GGUF header, plus the device once llama.cpp has started (undefined: still starting). */
  private async probeResult(
    summary: GgufSummary,
    llama: Llama | undefined,
    current: unknown,
  ): Promise<ProbeResult<LlamaCppProbeFacts>> {
    const sharedWith = this.lease?.otherLabels() ?? [];
    const notes = this.labelWarnings();
    if (llama === undefined)
      notes.push('llama.cpp is still starting in this process; the device (GPU or CPU) is known once it has.');
    const gpuNames = llama === undefined || llama.gpu === false ? [] : await llama.getGpuDeviceNames();
    return {
      available: true,
      models: [this.model],
      modelAvailable: true,
      ...(llama === undefined ? {} : { version: `node-llama-cpp (llama.cpp ${llama.llamaCppRelease.release})` }),
      ...(notes.length > 0 ? { reason: notes.join(' ') } : {}),
      facts: {
        file: summary.path,
        sizeBytes: summary.sizeBytes,
        architecture: summary.architecture,
        name: summary.name,
        contextLength: summary.contextLength,
        chatTemplate: summary.chatTemplate !== undefined,
        device: llama === undefined ? 'unknown' : llama.gpu === false ? 'cpu' : llama.gpu,
        ...(gpuNames.length > 0 ? { gpuDevices: gpuNames } : {}),
        ...(await this.threadDetails(summary, llama)),
        cpuBudget: this.cpuBudget,
        loaded: current !== undefined,
        sharedWith,
        ...(llama === undefined ? {} : { bindings: llama.buildType }),
      },
    };
  }

  /** Thread counts for probe(): in use, cached from an earlier measurement, or still to be measured. */
  private async threadDetails(summary: GgufSummary, llama: Llama | undefined): Promise<LlamaCppProbeFacts> {
    let choice = this.threadChoice;
    if (!choice && this.settings.threads !== undefined)
      choice = { decode: this.settings.threads, prompt: this.settings.threads, source: 'settings' };
    if (!choice && llama !== undefined && this.measuring(llama) && this.settings.threadCacheDir) {
      const key = await threadCacheKey(summary.path, machineIdentity(llama, this.cpuBudget.usable));
      choice = await readCachedThreadChoice(this.settings.threadCacheDir, key);
    }
    if (!choice && llama !== undefined && !this.measuring(llama))
      choice = { decode: this.ruleThreads, prompt: this.ruleThreads, source: 'rule' };
    if (!choice) return { threadsSource: 'pending' };
    return {
      threads: choice.decode,
      promptThreads: choice.prompt,
      threadsSource: choice.source,
      ...(choice.measuredAt ? { threadsMeasuredAt: choice.measuredAt } : {}),
      ...(choice.loadAverage !== undefined ? { threadsMeasuredLoadAverage: choice.loadAverage } : {}),
      ...(choice.samples ? { threadSamples: choice.samples } : {}),
      ...(choice.cacheFile ? { threadsCacheFile: choice.cacheFile } : {}),
    };
  }

  /** Whether thread counts are measured: on the CPU, unless the caller gave a count or turned it off. */
  private measuring(llama: Llama): boolean {
    return this.settings.threads === undefined && this.settings.tuneThreads !== false && llama.gpu === false;
  }

  private labelWarnings(): string[] {
    const others = this.lease?.otherLabels() ?? [];
    if (others.length === 0) return [];
    return [
      `"${this.model}" is a label for ${this.lease!.path}: the same file also serves ${others.map((name) => `"${name}"`).join(', ')}, so these names all run the same model.`,
    ];
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return collectStream(this.stream(request));
  }

  async *stream(request: GenerateRequest): AsyncIterable<StreamPart> {
    if (this.closed) throw this.closedError();
    validateGenerateRequest(request);
    const stopConsumer = new AbortController();
    const signals = [this.closeController.signal, stopConsumer.signal, ...(request.signal ? [request.signal] : [])];
    const lifecycle = new RequestLifecycle(
      { signal: AbortSignal.any(signals), timeoutMs: request.timeoutMs },
      `llama_cpp generation for "${this.model}"`,
    );
    const channel = new AsyncChannel<StreamPart>();
    const task = this.execute(request, lifecycle, channel).then(
      () => channel.end(),
      (error: unknown) => channel.fail(this.toError(error, lifecycle)),
    );
    try {
      yield* channel;
    } finally {
      // The consumer stopped early (break/return): stop the native generation and wait for it to end.
      if (!channel.finished) stopConsumer.abort();
      await task;
      lifecycle.dispose();
    }
  }

  private toError(error: unknown, lifecycle: RequestLifecycle): unknown {
    if (this.closeController.signal.aborted)
      return new NerionError(
        'BACKEND_CLOSED',
        `The llama_cpp backend for "${this.model}" was closed during the generation.`,
        { cause: error },
      );
    const mapped = lifecycle.toError(error);
    if (NerionError.isInstance(mapped)) return mapped;
    return new NerionError(
      'BACKEND_ERROR',
      `llama.cpp failed while generating with "${this.model}" (${describeError(mapped)}); the backend is still usable — retry, or lower maxTokens/contextSize if memory ran out.`,
      { cause: mapped },
    );
  }

  private async execute(
    request: GenerateRequest,
    lifecycle: RequestLifecycle,
    channel: AsyncChannel<StreamPart>,
  ): Promise<void> {
    lifecycle.throwIfAborted();
    const warnings: string[] = [];
    const warn = (message: string): void => {
      warnings.push(message);
      channel.push({ type: 'warning', message });
    };
    const loadStarted = performance.now();
    const wasReady = this.state !== undefined;
    const state = await raceAbort(this.session(), lifecycle.signal);
    const loadMs = wasReady ? undefined : performance.now() - loadStarted;

    const lock = this.mutex.lock();
    try {
      await raceAbort(lock.ready, lifecycle.signal);
      lifecycle.throwIfAborted();
      for (const message of this.labelWarnings()) warn(message);

      const { model } = state.loaded;
      let input: Token[] | string;
      const stopTriggers: (string | LlamaText)[] = [...(request.stop ?? []).filter((stop) => stop.length > 0)];
      if (request.messages) {
        if (state.chatWrapper) {
          const chatHistory: ChatHistoryItem[] = request.messages.map((message) =>
            message.role === 'assistant'
              ? { type: 'model', response: [message.content] }
              : { type: message.role, text: message.content },
          );
          chatHistory.push({ type: 'model', response: [] });
          const rendered = state.chatWrapper.generateContextState({ chatHistory });
          input = rendered.contextText.tokenize(model.tokenizer);
          stopTriggers.push(...rendered.stopGenerationTriggers);
        } else {
          warn(
            `${state.loaded.summary.path} has no chat template in its GGUF header, so the chat messages were sent as a plain "### User:/### Assistant:" prompt; use a GGUF with tokenizer.chat_template for the model's own format.`,
          );
          input = formatPlainPrompt(request.messages);
        }
      } else {
        input = request.prompt!;
      }

      // llama.cpp would silently drop the start of a prompt that does not fit: refuse it instead.
      const inputTokens = Array.isArray(input) ? input.length : model.tokenize(input).length;
      if (inputTokens >= state.contextSize) {
        throw new NerionError(
          'INVALID_REQUEST',
          `The prompt is ${inputTokens} tokens but the llama_cpp context for "${this.model}" holds ${state.contextSize} — shorten the prompt or raise contextSize (the model was trained for ${state.loaded.summary.contextLength ?? 'an unknown number of'} tokens).`,
          {
            data: { promptTokens: inputTokens, contextSize: state.contextSize },
          },
        );
      }

      let grammar: LlamaGrammar | undefined;
      if (request.jsonSchema) grammar = await raceAbort(this.grammarFor(request.jsonSchema, warn), lifecycle.signal);

      const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
      const sequence = state.sequence;
      await sequence.clearHistory();
      // Prompt batches run with the prompt's thread count; the first token switches to the decode count.
      const switchThreads = state.splitThreads && state.threads.prompt !== state.threads.decode;
      if (switchThreads) setContextThreads(state.context, state.threads.prompt);
      const meterBefore = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
      const generationStarted = performance.now();
      let firstTokenAt: number | undefined;
      let streamed = '';
      const response = await state.completion.generateCompletionWithMeta(input, {
        signal: lifecycle.signal,
        stopOnAbortSignal: false,
        maxTokens,
        temperature: request.temperature ?? 0,
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(grammar ? { grammar } : {}),
        ...(stopTriggers.length > 0 ? { customStopTriggers: stopTriggers } : {}),
        onToken: () => {
          if (firstTokenAt === undefined && switchThreads) setContextThreads(state.context, state.threads.decode);
          firstTokenAt ??= performance.now();
        },
        onTextChunk: (text) => {
          if (text.length === 0) return;
          firstTokenAt ??= performance.now();
          streamed += text;
          channel.push({ type: 'text-delta', text });
        },
      });
      const finishedAt = performance.now();
      lifecycle.throwIfAborted();

      // The engine's final text is what was streamed (stop-trigger text is held back while streaming);
      // anything it still held at the end goes out as a last delta, so stream ≡ generate.
      let text = streamed;
      if (response.response.length > streamed.length && response.response.startsWith(streamed)) {
        const rest = response.response.slice(streamed.length);
        channel.push({ type: 'text-delta', text: rest });
        text = response.response;
      }
      const finishReason = response.metadata.stopReason === 'maxTokens' ? 'length' : 'stop';
      const promptTokens = Array.isArray(input)
        ? input.length
        : sequence.tokenMeter.usedInputTokens - meterBefore.input;
      const completionTokens = Math.min(maxTokens, sequence.tokenMeter.usedOutputTokens - meterBefore.output);

      let json: unknown;
      if (request.jsonSchema) {
        try {
          json = parseJsonOutput(text, request.jsonSchema, `llama_cpp model "${this.model}"`);
        } catch (error) {
          if (finishReason === 'length' && NerionError.isInstance(error)) {
            const advice = tokenLimitAdvice(maxTokens);
            throw new NerionError('INVALID_OUTPUT', `${error.message} ${advice.sentence}`, {
              cause: error,
              data: { ...error.data, finishReason: 'length', maxTokens },
              fix: advice.fix,
            });
          }
          throw error;
        }
      }
      const totalMs = lifecycle.elapsedMs;
      const firstAt = firstTokenAt ?? finishedAt;
      const decodeSeconds = (finishedAt - firstAt) / 1000;
      const result: GenerateResult = {
        text,
        ...(request.jsonSchema ? { json } : {}),
        finishReason,
        usage: { promptTokens, completionTokens },
        timings: {
          ...(firstTokenAt !== undefined ? { timeToFirstTokenMs: firstTokenAt - lifecycle.startedAt } : {}),
          totalMs,
          ...(loadMs !== undefined ? { loadMs } : {}),
          ...(firstAt > generationStarted && promptTokens > 0
            ? { promptTokensPerSecond: promptTokens / ((firstAt - generationStarted) / 1000) }
            : {}),
          ...(completionTokens > 1 && decodeSeconds > 0
            ? { decodeTokensPerSecond: (completionTokens - 1) / decodeSeconds }
            : {}),
        },
        model: this.model,
        warnings,
      };
      channel.push({ type: 'finish', result });
    } finally {
      if (state.splitThreads) setContextThreads(state.context, state.threads.decode);
      lock.release();
    }
  }

  /** The thread counts for this backend's context: given, measured (or cached), or by rule. */
  private async chooseThreads(loaded: LoadedModel): Promise<ThreadChoice> {
    if (this.settings.threads !== undefined)
      return { decode: this.settings.threads, prompt: this.settings.threads, source: 'settings' };
    if (!this.measuring(loaded.llama)) return { decode: this.ruleThreads, prompt: this.ruleThreads, source: 'rule' };
    return tuneThreads({
      model: loaded.model,
      llama: loaded.llama,
      path: loaded.summary.path,
      sizeBytes: loaded.summary.sizeBytes,
      usableCores: this.cpuBudget.usable,
      cacheDir: this.settings.threadCacheDir,
    });
  }

  /** Model + this backend's context, created once and reused by every call. */
  private session(): Promise<SessionState> {
    if (!this.lease) {
      return checkModelPath(this.settings.modelPath, this.model).then(() => {
        throw new NerionError('INTERNAL', 'unreachable: a llama_cpp backend without a path has no model');
      });
    }
    if (!this.state) {
      const lease = this.lease;
      const pending = (async (): Promise<SessionState> => {
        const loaded = await lease.get();
        const { JinjaTemplateChatWrapper, LlamaCompletion } = await import('node-llama-cpp');
        const contextSize =
          this.settings.contextSize ?? Math.min(loaded.summary.contextLength ?? 4096, DEFAULT_CONTEXT_CAP);
        const threads = await this.chooseThreads(loaded);
        this.threadChoice = threads;
        let context: LlamaContext;
        try {
          context = await loaded.model.createContext({ contextSize, threads: threads.decode, sequences: 1 });
        } catch (error) {
          throw new NerionError(
            'MODEL_LOAD_FAILED',
            `llama.cpp could not create a ${contextSize}-token context for ${loaded.summary.path} (${describeError(error)}) — lower contextSize or free memory.`,
            {
              cause: error,
              data: { path: loaded.summary.path, contextSize },
            },
          );
        }
        const sequence = context.getSequence();
        const chatWrapper = loaded.summary.chatTemplate
          ? new JinjaTemplateChatWrapper({ template: loaded.summary.chatTemplate })
          : undefined;
        return {
          loaded,
          context,
          sequence,
          completion: new LlamaCompletion({ contextSequence: sequence }),
          chatWrapper,
          contextSize,
          threads,
          splitThreads: threads.prompt !== threads.decode && setContextThreads(context, threads.decode),
        };
      })();
      this.state = pending;
      pending.catch(() => {
        if (this.state === pending) this.state = undefined; // retried by the next call; this call's caller gets the error
      });
    }
    return this.state;
  }

  private grammarFor(schema: JsonSchema, warn: (message: string) => void): Promise<LlamaGrammar | undefined> {
    const key = JSON.stringify(schema);
    let pending = this.grammars.get(key);
    if (!pending) {
      pending = this.session().then(({ loaded }) =>
        loaded.llama.createGrammarForJsonSchema(
          schema as Parameters<typeof loaded.llama.createGrammarForJsonSchema>[0],
        ),
      );
      this.grammars.set(key, pending);
    }
    return pending.then(
      (grammar) => grammar,
      (error: unknown) => {
        this.grammars.delete(key);
        warn(
          `node-llama-cpp cannot turn this JSON schema into a grammar (${describeError(error)}), so the output is validated after generation instead of constrained while decoding.`,
        );
        return undefined;
      },
    );
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closeController.abort();
      this.closing = (async () => {
        await this.mutex.idle();
        const state = this.state;
        this.state = undefined;
        if (state) {
          // A session that failed to start holds nothing; its error went to the call that waited for it.
          const ready = await state.then(
            (value) => value,
            () => undefined,
          );
          if (ready && !ready.context.disposed) await ready.context.dispose();
        }
        await this.lease?.release();
      })();
    }
    return this.closing;
  }
}

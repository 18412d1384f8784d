import type { ChatMessage, GenerateRequest, GenerateResult, StreamPart } from './coder-backend.js';
import { NerionError } from './errors.js';

export const DEFAULT_MAX_TOKENS = 512;

/** Checks a request's shape; throws INVALID_REQUEST naming the field to fix. */
export function validateGenerateRequest(request: GenerateRequest): void {
  const hasMessages = Array.isArray(request.messages) && request.messages.length > 0;
  const hasPrompt = typeof request.prompt === 'string';
  if (hasMessages === hasPrompt) {
    throw new NerionError(
      'INVALID_REQUEST',
      'A generate request needs exactly one of `messages` (non-empty) or `prompt`.',
    );
  }
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)) {
    throw new NerionError('INVALID_REQUEST', `maxTokens must be a positive integer, got ${String(request.maxTokens)}.`);
  }
  if (request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2)) {
    throw new NerionError(
      'INVALID_REQUEST',
      `temperature must be between 0 and 2, got ${String(request.temperature)}.`,
    );
  }
  if (request.timeoutMs !== undefined && !(request.timeoutMs > 0)) {
    throw new NerionError('INVALID_REQUEST', `timeoutMs must be a positive number, got ${String(request.timeoutMs)}.`);
  }
}

/**
 * One AbortSignal for a call: fires when the caller aborts or when `timeoutMs` passes.
 * `toError` turns whatever the engine threw after that into ABORTED or TIMEOUT.
 */
export class RequestLifecycle {
  readonly signal: AbortSignal;
  readonly startedAt = performance.now();
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly removeListener: () => void;
  private reasonCode: 'ABORTED' | 'TIMEOUT' | undefined;

  constructor(
    private readonly request: Pick<GenerateRequest, 'signal' | 'timeoutMs'>,
    private readonly what = 'generation',
    private readonly settings: {
      /** The TIMEOUT message, when the default ("The <what> did not finish within …") does not fit. */
      timeoutMessage?: () => string;
      /** Keep the process alive until the timeout (the default unrefs the timer). */
      keepAlive?: boolean;
    } = {},
  ) {
    this.signal = this.controller.signal;
    const external = request.signal;
    const onAbort = (): void => this.fire('ABORTED');
    if (external?.aborted) this.fire('ABORTED');
    external?.addEventListener('abort', onAbort, { once: true });
    this.removeListener = () => external?.removeEventListener('abort', onAbort);
    this.timer =
      request.timeoutMs === undefined ? undefined : setTimeout(() => this.fire('TIMEOUT'), request.timeoutMs);
    if (!settings.keepAlive) this.timer?.unref?.();
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  get aborted(): boolean {
    return this.reasonCode !== undefined;
  }

  /** Throws ABORTED/TIMEOUT when the call was cut. */
  throwIfAborted(): void {
    if (this.reasonCode) throw this.cutError();
  }

  /** The error to surface for `error`: ABORTED/TIMEOUT when the call was cut, else `error` itself. */
  toError(error: unknown): unknown {
    if (this.reasonCode) return this.cutError(error);
    return error;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.removeListener();
  }

  /** Ends the signal with `reason` (for work still holding it after the call is over), unless already cut. */
  end(reason: unknown): void {
    this.dispose();
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private fire(code: 'ABORTED' | 'TIMEOUT'): void {
    if (this.reasonCode) return;
    this.reasonCode = code;
    this.controller.abort(this.cutError());
  }

  private cutError(cause?: unknown): NerionError {
    if (this.reasonCode === 'TIMEOUT') {
      return new NerionError(
        'TIMEOUT',
        this.settings.timeoutMessage?.() ??
          `The ${this.what} did not finish within ${this.request.timeoutMs} ms; raise timeoutMs or lower maxTokens.`,
        {
          cause,
          data: { timeoutMs: this.request.timeoutMs },
        },
      );
    }
    return new NerionError('ABORTED', `The ${this.what} was aborted by the caller.`, { cause });
  }
}

/** Collects a stream into the result its `finish` part carries (so `generate` ≡ collected `stream`). */
export async function collectStream(parts: AsyncIterable<StreamPart>): Promise<GenerateResult> {
  let text = '';
  for await (const part of parts) {
    if (part.type === 'text-delta') text += part.text;
    if (part.type === 'finish') return { ...part.result, text };
  }
  throw new NerionError('BACKEND_ERROR', 'The backend stream ended without a finish part.');
}

/** A plain prompt for engines or models without a chat template. */
export function formatPlainPrompt(messages: readonly ChatMessage[]): string {
  const lines = messages.map(
    (message) => `### ${message.role[0].toUpperCase()}${message.role.slice(1)}:\n${message.content}\n`,
  );
  return `${lines.join('\n')}\n### Assistant:\n`;
}

/** Truncates `text` at the first stop sequence; says whether one was found. */
export function applyStopSequences(
  text: string,
  stop: readonly string[] | undefined,
): { text: string; stopped: boolean } {
  if (!stop || stop.length === 0) return { text, stopped: false };
  let cut = -1;
  for (const sequence of stop) {
    if (!sequence) continue;
    const index = text.indexOf(sequence);
    if (index !== -1 && (cut === -1 || index < cut)) cut = index;
  }
  return cut === -1 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/**
 * Resolves after `ms` (at once when `ms` ≤ 0), or rejects with the signal's reason as soon as it aborts (at
 * once when it already has); the timer is cleared either way. The one abortable wait: polls, backoffs, the
 * stand-in engines' per-part latency.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // A plain timer, not node:timers/promises: core is on the plan-cache fast path, which loads nothing extra.
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts — for waits (a model
 * load, a server start, a probe) that cannot themselves be cancelled. Without a signal it is `promise`.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

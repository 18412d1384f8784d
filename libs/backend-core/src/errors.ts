/**
 * The one error type of nerion. Consumers branch on `code` (or `NerionError.isInstance`),
 * never on message text. Messages are written for a person: they say what happened and what to do.
 */
import { redactSecrets, redactSecretsDeep } from './redact.js';

export const NERION_ERROR_CODES = [
  'BACKEND_UNREACHABLE',
  'BACKEND_CLOSED',
  'BACKEND_ERROR',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'TIMEOUT',
  'ABORTED',
  'INVALID_OUTPUT',
  'INVALID_REQUEST',
  'CONSENT_REQUIRED',
  'BINDINGS_UNAVAILABLE',
  'BUILD_FAILED',
  'CONFIG_INVALID',
  'CATALOG_INVALID',
  'UNKNOWN_MODEL',
  'DOWNLOAD_FAILED',
  'CHECKSUM_MISMATCH',
  'INSUFFICIENT_DISK',
  'SERVER_START_FAILED',
  'PLAN_INVALID',
  'PATH_ESCAPE',
  'PRECONDITION_FAILED',
  'APPLY_FAILED',
  'CACHE_ERROR',
  'NOT_AVAILABLE',
  'UNKNOWN_COMMAND',
  'INTERNAL',
] as const;

export type NerionErrorCode = (typeof NERION_ERROR_CODES)[number];

const marker = Symbol.for('nerion.error');

/**
 * What fixes a failure, as data: the CLI renders it (variable names, their flags, a command line),
 * so nothing has to read the message to find the fix.
 */
export interface NerionErrorFix {
  /** Settings whose value fixes it, by variable name (`LLAMA_CPP_MODEL_PATH`). */
  readonly settings?: readonly string[];
  /** A command that fixes it, as argv (`['ollama', 'serve']`); printed shell-quoted, never run. */
  readonly command?: readonly string[];
}

export interface NerionErrorOptions {
  cause?: unknown;
  /** What fixes it (see NerionErrorFix). */
  fix?: NerionErrorFix;
  /** Structured, JSON-serialisable facts about the failure (file, url, model, field path, …). */
  data?: Readonly<Record<string, unknown>>;
}

export class NerionError extends Error {
  readonly [marker] = true;
  readonly code: NerionErrorCode;
  readonly data: Readonly<Record<string, unknown>>;
  readonly fix: NerionErrorFix | undefined;

  constructor(code: NerionErrorCode, message: string, options: NerionErrorOptions = {}) {
    // A URL's credentials or query values never reach a message or its data (see redact.ts).
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NerionError';
    this.code = code;
    this.data = Object.freeze(redactSecretsDeep({ ...(options.data ?? {}) }));
    this.fix = options.fix === undefined ? undefined : Object.freeze({ ...options.fix });
  }

  /** True for any NerionError, even one created by another copy of this package. */
  static isInstance(value: unknown): value is NerionError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  static hasCode(value: unknown, code: NerionErrorCode): value is NerionError {
    return NerionError.isInstance(value) && value.code === code;
  }

  toJSON(): {
    code: NerionErrorCode;
    message: string;
    data: Readonly<Record<string, unknown>>;
    fix?: NerionErrorFix;
    cause?: string;
  } {
    const cause =
      this.cause instanceof Error
        ? this.cause.message
        : this.cause === undefined
          ? undefined
          : // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a non-Error cause is shown as String() gives it.
            String(this.cause);
    return {
      code: this.code,
      message: this.message,
      data: this.data,
      ...(this.fix === undefined ? {} : { fix: this.fix }),
      ...(cause === undefined ? {} : { cause }),
    };
  }
}

/** The message of any thrown value, for wrapping it as a cause in a sentence. */
export function describeError(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}

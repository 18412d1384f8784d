/**
 * CoderBackend v1: the one interface every nerion backend implements.
 * Breaking changes to these types bump `CODER_BACKEND_SPECIFICATION_VERSION` (see docs/versioning.md).
 */
export const CODER_BACKEND_SPECIFICATION_VERSION = 'v1' as const;

/**
 * A backend's id (`ollama`, `llama_cpp`, `vllm`, `exllamav2`, or anyone's own, e.g. `acme`). Core keeps no closed
 * list: the ids nerion ships and their aliases live in `@nerion/config`.
 */
export type BackendId = string;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A JSON Schema object (draft 2020-12 subset: type, properties, required, items, enum, const, anyOf, bounds). */
export type JsonSchema = { [key: string]: unknown };

export interface GenerateRequest {
  /** Chat messages; the backend applies the model's own chat template. Give `messages` or `prompt`. */
  messages?: readonly ChatMessage[];
  /** A raw prompt, sent without a chat template. */
  prompt?: string;
  /** Upper bound of generated tokens. Backends pass it explicitly to the engine (default 512). */
  maxTokens?: number;
  /** Sampling temperature; 0 is greedy and deterministic. Default 0. */
  temperature?: number;
  /** Stop sequences; generation ends before any of them. */
  stop?: readonly string[];
  /** Constrain the output to JSON that matches this schema (constrained decoding where the engine can). */
  jsonSchema?: JsonSchema;
  /** Random seed where the engine accepts one. */
  seed?: number;
  /** Aborting rejects the call with code ABORTED and stops the engine's generation. */
  signal?: AbortSignal;
  /** Wall-clock limit for the whole call; exceeding it rejects with code TIMEOUT. */
  timeoutMs?: number;
}

export type FinishReason = 'stop' | 'length' | 'error';

export interface TokenUsage {
  promptTokens?: number;
  completionTokens?: number;
}

export interface GenerationTimings {
  /** Milliseconds from the call to the first generated text. */
  timeToFirstTokenMs?: number;
  /** Milliseconds from the call to the end of generation. */
  totalMs: number;
  /** Milliseconds spent loading the model during this call, when the engine reports it. */
  loadMs?: number;
  /** Prompt evaluation speed, tokens per second, when the engine reports it. */
  promptTokensPerSecond?: number;
  /** Decode speed, tokens per second. */
  decodeTokensPerSecond?: number;
}

export interface GenerateResult {
  text: string;
  /** The parsed value when the request had a `jsonSchema` (already validated against it). */
  json?: unknown;
  finishReason: FinishReason;
  usage: TokenUsage;
  timings: GenerationTimings;
  /** The model that answered, as the engine names it. */
  model: string;
  /** Settings the engine could not honour, and other things the caller should know. */
  warnings: readonly string[];
}

export type StreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'warning'; message: string }
  | { type: 'finish'; result: GenerateResult };

export interface ProbeOptions {
  /** Upper bound for the probe; backends default to a short timeout (about 2 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A backend's own probe facts (JSON-serialisable); each package exports a named type for its own
 * (e.g. `LlamaCppProbeFacts`), so a caller that knows the backend reads them typed.
 */
export type ProbeFacts = Readonly<Record<string, unknown>>;

export interface ProbeResult<Facts extends ProbeFacts = ProbeFacts> {
  available: boolean;
  /** When not available (or degraded): a sentence the user can act on. */
  reason?: string;
  /**
   * Whether the engine answered at all: false when nothing answers at its endpoint; undefined when the backend
   * cannot tell (in-process engines, or a failure after the engine answered).
   */
  reachable?: boolean;
  /** The endpoint an HTTP backend talks to (no trailing slash). */
  endpoint?: string;
  /** Models the engine can serve right now, as the engine names them. */
  models?: readonly string[];
  /** Whether the configured model is among them (undefined when the backend cannot tell). */
  modelAvailable?: boolean;
  version?: string;
  /** Backend-specific facts (device, file, context length, server pid, …), typed by the backend's package. */
  facts?: Facts;
  /** Each replica, when the backend routes over several base URLs (see createReplicatedBackend). */
  replicas?: readonly ReplicaStatus[];
}

/** One replica of a backend, as `probe()` reports it. */
export interface ReplicaStatus {
  /** The replica's base URL. */
  url: string;
  /** Whether requests are routed to it now (false: out after a failure, until a check brings it back). */
  available: boolean;
  /** Requests of this process in flight on it now. */
  inFlight: number;
  /** Why it is out (the last failure or the probe's reason), when it is. */
  reason?: string;
  /** Consecutive failures (reset by an answered request). */
  failures: number;
}

export interface CoderBackend {
  readonly specificationVersion: typeof CODER_BACKEND_SPECIFICATION_VERSION;
  readonly id: BackendId;
  /** The model this backend instance serves. */
  readonly model: string;
  /** Whether `jsonSchema` requests are enforced while decoding (otherwise validated after). */
  readonly supportsConstrainedDecoding: boolean;
  /** Never throws; bounded by a short timeout. */
  probe(options?: ProbeOptions): Promise<ProbeResult>;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  stream(request: GenerateRequest): AsyncIterable<StreamPart>;
  /** Releases models, sockets and child processes. Idempotent; later calls reject with BACKEND_CLOSED. */
  close(): Promise<void>;
}

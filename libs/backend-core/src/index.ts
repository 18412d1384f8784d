export {
  CODER_BACKEND_SPECIFICATION_VERSION,
  type BackendId,
  type ChatMessage,
  type CoderBackend,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type GenerationTimings,
  type JsonSchema,
  type ProbeFacts,
  type ProbeOptions,
  type ProbeResult,
  type ReplicaStatus,
  type StreamPart,
  type TokenUsage,
} from './coder-backend.js';
export {
  NERION_ERROR_CODES,
  NerionError,
  describeError,
  type NerionErrorCode,
  type NerionErrorFix,
  type NerionErrorOptions,
} from './errors.js';
export { redactSecrets, redactSecretsDeep, redactUrl } from './redact.js';
export { parseBaseUrl, serverRoot, type ParseBaseUrlOptions } from './base-url.js';
export { AsyncChannel } from './async-channel.js';
export { formatBytes } from './format-bytes.js';
export {
  SERVER_TEXT_MAX_CHARS,
  cutAtWordBoundary,
  escapeControlCharacters,
  serverText,
  terminalSafe,
} from './terminal-text.js';
export { BackendRegistry, type BackendFactory } from './backend-registry.js';
export {
  DEFAULT_MAX_TOKENS,
  RequestLifecycle,
  applyStopSequences,
  collectStream,
  formatPlainPrompt,
  raceAbort,
  sleep,
  validateGenerateRequest,
} from './request-lifecycle.js';
export {
  isProcessAlive,
  processCommandLine,
  processStartTicks,
  processStartTime,
  type SpawnFunction,
} from './process.js';
export { stopProcessGroup, type StopProcessResult } from './process-group.js';
export { shellJoin, shellQuote } from './shell-quote.js';
export { type ModelInstructions } from './model-instructions.js';
export {
  extractJsonText,
  jsonCandidates,
  parseJson,
  parseJsonOutput,
  validateJsonSchema,
  type JsonSchemaIssue,
} from './json-output.js';
export {
  DEFAULT_REPLICA_BACKOFF,
  ReplicaRouter,
  type ReplicaBackoff,
  type ReplicaLease,
  type ReplicaRouterOptions,
} from './replica-router.js';
export {
  createReplicatedBackend,
  type Replica,
  type ReplicatedBackend,
  type ReplicatedBackendSettings,
} from './replicated-backend.js';
export { boundText, tokenLimitAdvice } from './bounded-text.js';
export { connectionFailure, unreachableSentence, type ConnectionFailure } from './connection-failure.js';
export { fileKind, readBoundedFileSync, type BoundedFileRead } from './bounded-file.js';

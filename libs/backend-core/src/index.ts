export {
  BACKEND_IDS,
  CODER_BACKEND_SPECIFICATION_VERSION,
  type BackendId,
  type ChatMessage,
  type CoderBackend,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type GenerationTimings,
  type JsonSchema,
  type ProbeOptions,
  type ProbeResult,
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
export {
  normalizeBackendId,
  normalizeOllamaTag,
  parseBackendId,
  parseModelReference,
  sameOllamaModel,
  type ModelReference,
} from './model-reference.js';
export {
  CONFIG_VARIABLES,
  DEFAULT_BACKEND,
  DEFAULT_BASE_URLS,
  DEFAULT_MODEL,
  defaultConfigFilePath,
  loadConfigFile,
  parseBaseUrl,
  parseBoolean,
  resolveConfig,
  splitCommandLine,
  type AutoSelection,
  type ConfigFlags,
  type ConfigSource,
  type ConfigValues,
  type ConfigVariable,
  type NerionConfig,
  type ResolveConfigInput,
} from './config.js';
export { BackendRegistry, type BackendFactory } from './backend-registry.js';
export {
  DEFAULT_MAX_TOKENS,
  RequestLifecycle,
  applyStopSequences,
  collectStream,
  formatPlainPrompt,
  raceAbort,
  validateGenerateRequest,
} from './request-lifecycle.js';
export { parseJsonOutput, validateJsonSchema, type JsonSchemaIssue } from './json-output.js';
export {
  isProcessAlive,
  processCommandLine,
  processStartTicks,
  processStartTime,
  type SpawnFunction,
} from './process.js';
export { shellJoin, shellQuote } from './shell-quote.js';
export { type ModelInstructions } from './model-instructions.js';

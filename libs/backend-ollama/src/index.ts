// @nerion/backend-ollama: the Ollama backend (CoderBackend v1), on the `ollama` npm client.
export {
  DEFAULT_OLLAMA_BASE_URL,
  DEFAULT_OLLAMA_KEEP_ALIVE,
  DEFAULT_OLLAMA_PROBE_TIMEOUT_MS,
  createOllamaBackend,
  ollamaBaseUrls,
  type OllamaBackend,
  type OllamaProbeFacts,
  type OllamaBackendSettings,
} from './ollama-backend.js';
export { ollamaBaseUrl } from './settings.js';
export { normalizeOllamaTag, ollamaModelName, sameOllamaModel } from './ollama-tags.js';
export {
  pullOllamaModel,
  type OllamaPullOptions,
  type OllamaPullProgress,
  type OllamaPullResult,
  type OllamaPullSettings,
} from './ollama-pull.js';
export {
  CONTEXT_LADDER,
  chooseContextLength,
  estimatePromptTokens,
  type ContextWindowSettings,
} from './context-window.js';
export { STRUCTURED_OUTPUTS_SINCE, compareVersions } from './ollama-version.js';
export { modelMissingMessage, notRunningMessage } from './ollama-errors.js';
export { ensureOllamaModel, type EnsureOllamaModelOptions, type EnsuredOllamaModel } from './ensure-model.js';
export {
  deleteOllamaModel,
  listInstalledOllamaModels,
  listRunningOllamaModels,
  type OllamaInstalledModel,
  type OllamaManageOptions,
  type OllamaRunningModel,
} from './ollama-manage.js';
export { OLLAMA_DEFAULT_PORT, ollamaHostToBaseUrl, ollamaServeCommand } from './ollama-host.js';

// @nerion/backend-openai-compatible: any OpenAI-compatible HTTP server (vLLM, TabbyAPI, llama.cpp's server, …)
// as a CoderBackend v1, and the served-model list of such a server.
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  createOpenAICompatibleBackend,
  serverRootsFromBaseUrl,
  type OpenAICompatibleBackend,
  type OpenAICompatibleBackendSettings,
} from './openai-compatible-backend.js';
export { listOpenAICompatibleModels, type ListModelsOptions, type ModelListFailure } from './list-models.js';
export { serverRootFromBaseUrl } from './server-root.js';

// @nerion/backend-vllm: vLLM (and any OpenAI-compatible server) as a CoderBackend v1, with opt-in autostart.
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  createOpenAICompatibleBackend,
  serverRootFromBaseUrl,
  type OpenAICompatibleBackend,
  type OpenAICompatibleBackendSettings,
} from './openai-compatible-backend.js';
export { DEFAULT_VLLM_BASE_URL, createVllmBackend, type VllmBackend, type VllmBackendSettings } from './vllm-backend.js';
export {
  DEFAULT_SERVER_START_TIMEOUT_MS,
  DEFAULT_VLLM_COMMAND,
  ensureVllmServer,
  isProcessAlive,
  listVllmServers,
  readLogTail,
  readVllmPidFile,
  serverAddressFromBaseUrl,
  stopProcessGroup,
  stopVllmServers,
  vllmLogFile,
  vllmPidFile,
  vllmServeArguments,
  type EnsureVllmServerOptions,
  type EnsuredVllmServer,
  type ServerAddress,
  type SpawnFunction,
  type StopProcessResult,
  type StoppedVllmServer,
  type VllmAutostartSettings,
  type VllmPidRecord,
  type VllmServeArgumentsInput,
  type VllmServerRecord,
} from './vllm-server.js';

// @nerion/backend-vllm: vLLM as a CoderBackend v1 (over @nerion/backend-openai-compatible), with opt-in autostart
// of a local `vllm serve` and the pid files that let `nerion models stop` stop it.
export { vllmBaseUrl } from './settings.js';
export {
  DEFAULT_VLLM_BASE_URL,
  createVllmBackend,
  type VllmBackend,
  type VllmBackendSettings,
} from './vllm-backend.js';
export {
  DEFAULT_SERVER_START_TIMEOUT_MS,
  ensureVllmServer,
  stopVllmServers,
  type EnsureVllmServerOptions,
  type EnsuredVllmServer,
  type StoppedVllmServer,
  type VllmAutostartSettings,
} from './vllm-server.js';
export {
  DEFAULT_VLLM_COMMAND,
  VLLM_DISTRIBUTED_EXECUTOR_BACKENDS,
  vllmParallelismArguments,
  vllmServeArguments,
  type VllmDistributedExecutorBackend,
  type VllmParallelism,
  type VllmServeArgumentsInput,
} from './serve-arguments.js';
export {
  listVllmServers,
  vllmLogFile,
  vllmPidFile,
  whyNotOurs,
  type VllmPidRecord,
  type VllmServerRecord,
} from './pid-file.js';
export { ensureVllmModel, type EnsureVllmModelOptions, type EnsuredVllmModel } from './ensure-model.js';

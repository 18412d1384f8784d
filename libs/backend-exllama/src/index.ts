// @nerion/backend-exllama: exllamav2 as a CoderBackend v1 (experimental) — a Python bridge over JSON
// lines, or an OpenAI-compatible exllama server (TabbyAPI) through @nerion/backend-openai-compatible.
export { createExllamaBackend, type ExllamaBackend, type ExllamaBackendSettings } from './exllama-backend.js';
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  ExllamaBridgeBackend,
  type ExllamaBridgeBackendSettings,
} from './exllama-bridge-backend.js';
export { BridgeProcess, type BridgeProcessSettings } from './bridge-process.js';
export {
  BRIDGE_PROTOCOL_VERSION,
  BRIDGE_SCRIPT_PATH,
  type BridgeDone,
  type BridgeEvent,
  type BridgeHello,
  type BridgeLoaded,
  type BridgeOperation,
} from './bridge-protocol.js';
export {
  DEFAULT_DOWNLOAD_COMMAND,
  exllamaDownloadCommand,
  prepareExllamaModelDir,
  type PrepareExllamaModelDirSettings,
  type PreparedModelDir,
} from './prepare-model-dir.js';
export { exllamaModelDir, hasExllamaModel } from './model-folder.js';
export { ensureExllamaModel, type EnsureExllamaModelOptions, type EnsuredExllamaModel } from './ensure-model.js';

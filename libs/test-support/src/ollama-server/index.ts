export {
  parseKeepAlive,
  startLocalOllamaServer,
  type LocalOllamaServer,
  type LocalOllamaServerOptions,
  type OllamaEngineFactory,
  type OllamaEngineOptions,
  type RecordedOllamaRequest,
} from './local-ollama-server.js';
export { formatParameterSize, readGgufModelCard, type GgufModelCard } from './gguf-model-card.js';

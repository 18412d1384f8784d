// @nerion/config: the one configuration resolver (flags > env > config file > auto-selection > defaults).
export {
  BACKEND_ALIASES,
  KNOWN_BACKEND_IDS,
  normalizeBackendId,
  parseBackendId,
  parseModelReference,
  type KnownBackendId,
  type ModelReference,
} from './backend-ids.js';
export {
  CONFIG_VARIABLES,
  DEFAULT_BACKEND,
  ENDPOINT_VARIABLES,
  LIST_VARIABLES,
  DEFAULT_MODEL,
  defaultConfigFilePath,
  loadConfigFile,
  parseBaseUrlList,
  parseBoolean,
  resolveConfig,
  splitCommandLine,
  type AutoSelection,
  type ConfigFlags,
  type ConfigScalar,
  type ConfigSource,
  type ConfigValues,
  type ConfigVariable,
  type EndpointBackend,
  type NerionConfig,
  type ResolveConfigInput,
} from './config.js';
export { SETTING_FLAGS } from './setting-flags.js';
export { parseArgumentList } from './argument-list.js';

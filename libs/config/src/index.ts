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
  DEFAULT_MODEL,
  defaultConfigFilePath,
  loadConfigFile,
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
export { SETTING_FLAGS } from './setting-flags.js';

export {
  CATALOG_BACKENDS,
  CATALOG_FORMAT_VERSION,
  CATALOG_STRENGTHS,
  type Catalog,
  type CatalogBackendId,
  type CatalogBackends,
  type CatalogFamily,
  type CatalogStrength,
  type ExllamaEntry,
  type LlamaCppEntry,
  type OllamaEntry,
  type VllmEntry,
} from './catalog-schema.js';
export { PACKAGED_CATALOG_PATH, loadCatalog, parseCatalog, type LoadCatalogOptions } from './load-catalog.js';
export {
  describeKnownNames,
  findFamily,
  resolveFamily,
  resolveModelForBackend,
  unknownModelError,
  type BackendModelResolution,
} from './resolve-model.js';
export { nearestNames, suggestModelNames, type NearestNamesOptions } from './suggest-names.js';
export {
  PROVISIONED_FILE_NAME,
  defaultGgufPath,
  findProvisioned,
  forgetProvisioned,
  findProvisionedGguf,
  ggufDirectory,
  provisionedFilePath,
  readProvisioned,
  recordProvisioned,
  type ProvisionedRecord,
} from './provisioned.js';
export {
  downloadFile,
  partPathOf,
  readHead,
  sha256OfFile,
  type DownloadFetch,
  type DownloadFileOptions,
  type DownloadProgress,
  type DownloadResponse,
  type DownloadResult,
  type StatfsFunction,
} from './download-file.js';
export { nodeHttpFetch, DOWNLOAD_IDLE_TIMEOUT_MS } from './node-http-fetch.js';
export { lockPathOf, withDestinationLock, type DestinationLockOptions } from './download-lock.js';
export {
  ggufSourceFor,
  provisionGguf,
  GGUF_MAGIC,
  type ConsentFunction,
  type GgufSource,
  type ProvisionGgufOptions,
  type ProvisionGgufResult,
} from './provision-gguf.js';
export {
  selectModelForMachine,
  type MachineMemory,
  type ModelSelection,
  type SelectModelOptions,
} from './select-model.js';
export { DEFAULT_RESERVE_GB, memoryFit, type MemoryFit } from './memory-fit.js';
export {
  chooseAutoSelection,
  profileTask,
  type AutoCandidate,
  type AutoSelectInput,
  type AutoSelectResult,
  type BenchFigure,
  type ScoredCandidate,
  type TaskProfile,
} from './auto-select.js';

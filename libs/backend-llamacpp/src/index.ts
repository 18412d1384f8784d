export { createLlamaCppBackend, type LlamaCppBackendSettings, type LlamaCppProbeFacts } from './llama-cpp-backend.js';
export {
  llamaCppRuntimeStats,
  detectMemoryLimitBytes,
  llamaBindingsInUse,
  type LlamaCppRuntimeStats,
} from './llama-runtime.js';
export { chooseThreadCount, detectCpuBudget, type CpuBudget } from './thread-count.js';
export type { GgufSummary } from './model-file.js';
export {
  THREAD_CACHE_FILE,
  readCachedThreadChoice,
  threadCandidates,
  type ThreadChoice,
  type ThreadSample,
} from './thread-tuning.js';
export {
  amxTileConfigPatchFile,
  buildLlamaCpp,
  checkBuildPrerequisites,
  describeLlamaBuild,
  llamaBuildCmakeOptions,
  parseBuildProgress,
  prebuiltBinariesDirectory,
  usePrebuiltCpuKernels,
  type BuildLlamaOptions,
  type CpuKernelsReport,
  type BuildPrerequisites,
  type LlamaBuildSetting,
} from './llama-build.js';
export { smokeTestLlamaBuild, type SmokeTestOptions, type SmokeTestResult } from './llama-smoke.js';

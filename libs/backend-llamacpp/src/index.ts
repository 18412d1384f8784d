export { createLlamaCppBackend, type LlamaCppBackendSettings, type LlamaCppProbeFacts } from './llama-cpp-backend.js';
export { llamaCppRuntimeStats, detectMemoryLimitBytes, type LlamaCppRuntimeStats } from './llama-runtime.js';
export { chooseThreadCount, detectCpuBudget, type CpuBudget } from './thread-count.js';
export type { GgufSummary } from './model-file.js';
export {
  THREAD_CACHE_FILE,
  readCachedThreadChoice,
  threadCandidates,
  type ThreadChoice,
  type ThreadSample,
} from './thread-tuning.js';

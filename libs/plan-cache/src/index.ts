export {
  PLAN_CACHE_FILE,
  PLAN_CACHE_FORMAT_VERSION,
  PlanCache,
  computePlanCacheKey,
  normaliseInstruction,
  normaliseTarget,
  type PlanCacheEntry,
  type PlanCacheEntryInfo,
  type PlanCacheKeyInput,
  type PlanCacheSettings,
  type PlannerIdentity,
} from './plan-cache.js';
export {
  NERION_STATE_DIR,
  findRepoRoot,
  fingerprintRepository,
  type FingerprintSettings,
  type RepoFingerprint,
  type SpawnFunction,
} from './repo-fingerprint.js';

export {
  PLAN_CACHE_FORMAT_VERSION,
  computePlanCacheKey,
  normaliseInstruction,
  normaliseTarget,
  type PlanCacheKeyInput,
  type PlannerIdentity,
} from './plan-cache-key.js';
export {
  PLAN_CACHE_FILE,
  PlanCache,
  type PlanCacheEntry,
  type PlanCacheEntryInfo,
  type PlanCacheSettings,
} from './plan-cache.js';
export {
  NERION_STATE_DIR,
  findRepoRoot,
  fingerprintRepository,
  type FingerprintSettings,
  type RepoFingerprint,
} from './repo-fingerprint.js';

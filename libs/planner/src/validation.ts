/**
 * `@nerion/planner/validation`: what serving a stored plan needs — the integrity check, its paths and the
 * repository jail — without valibot, the planners or the JSON Schema generator, so a plan-cache hit stays light.
 */
export {
  ACTION_KINDS,
  HEURISTIC_RULES_VERSION,
  MAX_INSTRUCTION_LENGTH,
  PLAN_SCHEMA_VERSION,
  type ActionKind,
} from './plan-constants.js';
export { checkInstructionLength } from './instruction.js';
export { canonicalJson, computeBundleId, planPaths, verifyStoredPlan } from './plan-content.js';
export { assertPathsInsideRepo, checkRepoRelativePath } from './repo-path.js';
export { readRepoFileStart } from './repo-file.js';
export type { Plan } from './plan-schema.js';

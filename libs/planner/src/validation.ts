/**
 * `@nerion/planner/validation`: what serving a stored plan needs (schema validation, its paths, the
 * repository jail) without the planners and the JSON Schema generator — the plan-cache hit path stays light.
 */
export { PLAN_SCHEMA_VERSION, type Plan } from './plan-schema.js';
export { checkPlan, planPaths, validatePlan, type PlanCheck, type PlanIssue } from './plan-validation.js';
export { assertPathsInsideRepo, checkRepoRelativePath } from './repo-path.js';

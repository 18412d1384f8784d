/**
 * What a plan's content is, without valibot: its content hash (bundle_id), the paths it names, and the
 * integrity check the plan cache runs on a hit. Full schema validation lives in plan-validation.ts.
 */
import { createHash } from 'node:crypto';
import { NerionError } from '@nerion/backend-core';
import { PLAN_SCHEMA_VERSION } from './plan-constants.js';
import { diffHeaderPaths } from './repo-path.js';
import { checkStoredPlanShape } from './stored-plan-check.js';
import type { Plan } from './plan-schema.js';

/** Canonical JSON: keys sorted, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha-256 of the plan's content (version, target, actions, conditions) — never random, never time-based. */
export function computeBundleId(
  plan: Pick<Plan, 'target_file' | 'actions' | 'preconditions' | 'postconditions'>,
): string {
  const content = {
    version: PLAN_SCHEMA_VERSION,
    target_file: plan.target_file,
    actions: plan.actions,
    preconditions: plan.preconditions,
    postconditions: plan.postconditions,
  };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Every repo path a plan names: target_file, payload paths, test paths, condition paths and diff headers. */
export function planPaths(plan: Pick<Plan, 'target_file' | 'actions' | 'preconditions' | 'postconditions'>): string[] {
  const paths = new Set<string>();
  if (plan.target_file !== undefined) paths.add(plan.target_file);
  for (const action of plan.actions) {
    const payload = action.payload as Record<string, unknown>;
    for (const key of ['path', 'test_path']) if (typeof payload[key] === 'string') paths.add(payload[key]);
    if (action.kind === 'apply_unified_diff') for (const path of diffHeaderPaths(action.payload.diff)) paths.add(path);
  }
  for (const condition of [...(plan.preconditions ?? []), ...(plan.postconditions ?? [])]) paths.add(condition.path);
  return [...paths];
}

/**
 * The check a plan-cache hit runs, without valibot: the plan's whole shape as the schema defines it (every
 * field's type and bounds, no unknown key at any depth, the metadata), its bundle_id against its content, and
 * the pure repository jail on every path (diff headers included). Throws PLAN_INVALID naming the first
 * problem. (The plan cache also checks a digest of the whole entry, which catches metadata edits that are
 * still valid plans.)
 */
export function verifyStoredPlan(value: unknown): Plan {
  const fail = (message: string): never => {
    throw new NerionError('PLAN_INVALID', `The stored plan is not valid: ${message}.`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('it is not an object');
  const plan = value as Record<string, unknown>;
  if (plan.version !== PLAN_SCHEMA_VERSION) fail(`$.version must be ${PLAN_SCHEMA_VERSION}`);
  const problem = checkStoredPlanShape(plan);
  if (problem) fail(problem);
  if (plan.bundle_id !== computeBundleId(plan as unknown as Plan))
    fail('$.bundle_id does not match the plan content (the entry was edited)');
  return plan as unknown as Plan;
}

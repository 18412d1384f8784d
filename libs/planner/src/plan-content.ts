/**
 * What a plan's content is, without valibot: its content hash (bundle_id), the paths it names, and the
 * integrity check the plan cache runs on a hit. Full schema validation lives in plan-validation.ts.
 */
import { createHash } from 'node:crypto';
import { NerionError } from '@nerion/backend-core';
import { ACTION_KINDS, MAX_PLAN_ACTIONS, PLAN_SCHEMA_VERSION } from './plan-constants.js';
import { checkRepoRelativePath, diffHeaderPaths } from './repo-path.js';
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
    for (const key of ['path', 'test_path']) if (typeof payload[key] === 'string') paths.add(payload[key] as string);
    if (action.kind === 'apply_unified_diff') for (const path of diffHeaderPaths(action.payload.diff)) paths.add(path);
  }
  for (const condition of [...(plan.preconditions ?? []), ...(plan.postconditions ?? [])]) paths.add(condition.path);
  return [...paths];
}

/**
 * The check a plan-cache hit runs (the full schema ran before the plan was stored, and the schema version is
 * part of the cache key): the plan's shape, its bundle_id against its content — so an edited entry is
 * refused — and the pure repository jail on every path. Throws PLAN_INVALID.
 */
export function verifyStoredPlan(value: unknown): Plan {
  const fail = (message: string): never => {
    throw new NerionError('PLAN_INVALID', `The stored plan is not valid: ${message}.`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('it is not an object');
  const plan = value as Plan;
  if (plan.version !== PLAN_SCHEMA_VERSION) fail(`$.version must be ${PLAN_SCHEMA_VERSION}`);
  if (!Array.isArray(plan.actions) || plan.actions.length < 1 || plan.actions.length > MAX_PLAN_ACTIONS)
    fail(`$.actions must hold 1 to ${MAX_PLAN_ACTIONS} actions`);
  plan.actions.forEach((action, index) => {
    if (
      typeof action !== 'object' ||
      action === null ||
      !(ACTION_KINDS as readonly string[]).includes(action.kind) ||
      typeof action.payload !== 'object' ||
      action.payload === null
    ) {
      fail(`$.actions[${index}] is not a known action`);
    }
  });
  if (typeof plan.metadata !== 'object' || plan.metadata === null || typeof plan.metadata.source !== 'string')
    fail('$.metadata is missing');
  if (typeof plan.bundle_id !== 'string' || plan.bundle_id !== computeBundleId(plan))
    fail('$.bundle_id does not match the plan content (the entry was edited)');
  for (const path of planPaths(plan)) {
    if (typeof path !== 'string') fail('a path is not a string');
    const reason = checkRepoRelativePath(path);
    if (reason) fail(`the path ${JSON.stringify(path)} ${reason}`);
  }
  return plan;
}

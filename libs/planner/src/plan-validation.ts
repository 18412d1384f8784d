import * as v from 'valibot';
import { NerionError } from '@nerion/backend-core';
import { normaliseRepoPath } from './repo-path.js';
import { computeBundleId } from './plan-content.js';

export { canonicalJson, computeBundleId, planPaths } from './plan-content.js';
import {
  PLAN_SCHEMA_VERSION,
  PlanDraftSchema,
  PlanSchema,
  type Plan,
  type PlanDraft,
  type PlanMetadata,
} from './plan-schema.js';

export interface PlanIssue {
  /** Where the failing value is, `$` for the root (e.g. `$.actions[2].payload.path`). */
  path: string;
  message: string;
}

function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '$';
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    path += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return path;
}

function toIssues(issues: readonly v.BaseIssue<unknown>[]): PlanIssue[] {
  return issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
}

export type PlanCheck<T> = { success: true; value: T } | { success: false; issues: PlanIssue[] };

/** Validates a complete plan, including that bundle_id matches its content. */
export function checkPlan(value: unknown): PlanCheck<Plan> {
  const result = v.safeParse(PlanSchema, value);
  if (!result.success) return { success: false, issues: toIssues(result.issues) };
  const expected = computeBundleId(result.output);
  if (result.output.bundle_id !== expected) {
    return {
      success: false,
      issues: [{ path: '$.bundle_id', message: `does not match the plan content (expected ${expected})` }],
    };
  }
  return { success: true, value: result.output };
}

/** Validates what a model produced (a plan without metadata and bundle_id). */
export function checkPlanDraft(value: unknown): PlanCheck<PlanDraft> {
  const result = v.safeParse(PlanDraftSchema, value);
  return result.success ? { success: true, value: result.output } : { success: false, issues: toIssues(result.issues) };
}

export function describeIssues(issues: readonly PlanIssue[]): string {
  const first = issues[0];
  if (!first) return 'no issues';
  return `${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`;
}

/** Throws PLAN_INVALID naming the first failing field's path. */
export function validatePlan(value: unknown): Plan {
  const result = checkPlan(value);
  if (!result.success) {
    throw new NerionError('PLAN_INVALID', `The plan is not valid: ${describeIssues(result.issues)}.`, {
      data: { issues: result.issues.slice(0, 20) },
    });
  }
  return result.value;
}

/** Builds and validates a complete plan from a draft and its metadata. Paths are normalised first. */
export function finalizePlan(draft: PlanDraft, metadata: PlanMetadata): Plan {
  const normalised = normaliseDraftPaths(draft);
  const plan: Record<string, unknown> = { version: PLAN_SCHEMA_VERSION };
  if (normalised.target_file !== undefined) plan.target_file = normalised.target_file;
  plan.actions = normalised.actions;
  if (normalised.preconditions !== undefined) plan.preconditions = normalised.preconditions;
  if (normalised.postconditions !== undefined) plan.postconditions = normalised.postconditions;
  plan.metadata = metadata;
  plan.bundle_id = computeBundleId(normalised);
  return validatePlan(plan);
}

function normaliseDraftPaths(draft: PlanDraft): PlanDraft {
  const fixPath = (path: string): string => normaliseRepoPath(path);
  const actions = draft.actions.map((action) => {
    const payload: Record<string, unknown> = { ...action.payload };
    for (const key of ['path', 'test_path'] as const)
      if (typeof payload[key] === 'string') payload[key] = fixPath(payload[key]);
    return { ...action, payload } as typeof action;
  });
  const conditions = (list: PlanDraft['preconditions']) =>
    list?.map((condition) => ({ ...condition, path: fixPath(condition.path) }));
  return {
    ...(draft.target_file === undefined ? {} : { target_file: fixPath(draft.target_file) }),
    actions,
    ...(draft.preconditions === undefined ? {} : { preconditions: conditions(draft.preconditions) }),
    ...(draft.postconditions === undefined ? {} : { postconditions: conditions(draft.postconditions) }),
  };
}

/**
 * The plan checker of the evaluation set (and of `nerion models bench --task plan`): compares what a planner
 * produced — a plan or an error — with a case's expectation, and says `right`, `asked` or `wrong`.
 *
 * An expectation is `"ask"` (the planner should ask: a plan with `metadata.clarification_needed`, or an
 * INVALID_REQUEST error) or the expected actions, in order, each `{ kind, payload? }` where `payload` lists
 * only the fields that matter: a value must be equal (deep), `{ "$contains": "text" }` must be a substring,
 * `{ "$absent": true }` must be missing. Optional `preconditions` / `postconditions` must each be present.
 *
 * Verdicts: `right` — the expected actions (or a question when one was expected); `asked` — a question
 * where actions were expected (safe, but no help); `wrong` — anything else: other actions, a plan where a
 * question was expected, an invalid plan, or any other error.
 */
import { NerionError } from '@nerion/backend-core';
import type { ActionKind, Plan, PlanCondition } from '../plan-schema.js';

/** A value compared as JSON, or `{ $contains: string }` (a substring), or `{ $absent: true }` (no such key). */
export type PayloadMatcher = unknown;

export interface ExpectedAction {
  kind: ActionKind;
  payload?: Record<string, PayloadMatcher>;
}

export type PlanExpectation =
  | 'ask'
  | {
      actions: ExpectedAction[];
      preconditions?: Partial<PlanCondition>[];
      postconditions?: Partial<PlanCondition>[];
    };

export type PlanVerdict = 'right' | 'asked' | 'wrong';

export interface PlanVerdictResult {
  verdict: PlanVerdict;
  /** Why it is not right (empty when right). */
  reason: string;
}

/** What a planner produced for one case. */
export type PlanOutcome = { plan: Plan } | { error: unknown };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) && Array.isArray(right))
    return left.length === right.length && left.every((item, index) => deepEqual(item, right[index]));
  if (isObject(left) && isObject(right)) {
    const keys = Object.keys(left).filter((key) => left[key] !== undefined);
    const otherKeys = Object.keys(right).filter((key) => right[key] !== undefined);
    return keys.length === otherKeys.length && keys.every((key) => deepEqual(left[key], right[key]));
  }
  return false;
}

function matchValue(actual: unknown, expected: PayloadMatcher): boolean {
  if (isObject(expected) && '$contains' in expected)
    return typeof actual === 'string' && actual.includes(String(expected.$contains));
  if (isObject(expected) && '$absent' in expected) return actual === undefined;
  return deepEqual(actual, expected);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'undefined' : text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function conditionsMatch(
  actual: readonly PlanCondition[] | undefined,
  expected: readonly Partial<PlanCondition>[] | undefined,
  label: string,
): string | undefined {
  for (const condition of expected ?? []) {
    const found = (actual ?? []).some((item) =>
      Object.entries(condition).every(([key, value]) => deepEqual((item as Record<string, unknown>)[key], value)),
    );
    if (!found) return `${label} lack ${describe(condition)} (have ${describe(actual ?? [])})`;
  }
  return undefined;
}

/** Whether the outcome is the planner asking (clarification plan or INVALID_REQUEST). */
export function outcomeAsks(outcome: PlanOutcome): boolean {
  if ('error' in outcome) return NerionError.hasCode(outcome.error, 'INVALID_REQUEST');
  return outcome.plan.metadata.clarification_needed === true;
}

/** Compares a planner's outcome with an expectation. */
export function checkPlanAgainst(outcome: PlanOutcome, expectation: PlanExpectation): PlanVerdictResult {
  const asks = outcomeAsks(outcome);
  if (expectation === 'ask') {
    if (asks) return { verdict: 'right', reason: '' };
    if ('error' in outcome) return { verdict: 'wrong', reason: `failed: ${errorText(outcome.error)}` };
    return {
      verdict: 'wrong',
      reason: `planned ${outcome.plan.actions.map((action) => action.kind).join(', ')} where a question was expected`,
    };
  }
  if (asks) {
    const why =
      'error' in outcome ? errorText(outcome.error) : (outcome.plan.metadata.questions?.[0] ?? 'clarification');
    return { verdict: 'asked', reason: `asked: ${why}` };
  }
  if ('error' in outcome) return { verdict: 'wrong', reason: `failed: ${errorText(outcome.error)}` };
  const { plan } = outcome;
  if (plan.actions.length !== expectation.actions.length)
    return {
      verdict: 'wrong',
      reason: `${plan.actions.length} action(s) (${plan.actions.map((action) => action.kind).join(', ')}), expected ${expectation.actions.length} (${expectation.actions.map((action) => action.kind).join(', ')})`,
    };
  for (const [index, expected] of expectation.actions.entries()) {
    const actual = plan.actions[index];
    if (actual.kind !== expected.kind)
      return { verdict: 'wrong', reason: `action ${index}: ${actual.kind}, expected ${expected.kind}` };
    const payload = actual.payload as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected.payload ?? {})) {
      if (!matchValue(payload[key], value))
        return {
          verdict: 'wrong',
          reason: `action ${index} (${actual.kind}): ${key} is ${describe(payload[key])}, expected ${describe(value)}`,
        };
    }
  }
  const conditions =
    conditionsMatch(plan.preconditions, expectation.preconditions, 'preconditions') ??
    conditionsMatch(plan.postconditions, expectation.postconditions, 'postconditions');
  if (conditions) return { verdict: 'wrong', reason: conditions };
  return { verdict: 'right', reason: '' };
}

function errorText(error: unknown): string {
  if (NerionError.isInstance(error)) return `[${error.code}] ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

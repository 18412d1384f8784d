/**
 * The whole plan schema (plan-schema.ts) as a small table checked by hand, without valibot: a plan-cache hit
 * must verify everything it serves — every field's type and bounds, no unknown key anywhere, every path
 * jailed, the metadata — and valibot's import alone would cost a tenth of a hit's budget. plan-schema.ts is
 * the reference; `stored-plan-check.spec.ts` holds the two together (same keys per action kind, same verdict
 * on valid plans and on many mutations of them).
 */
import { LANGUAGES, MAX_INSTRUCTION_LENGTH, MAX_PLAN_ACTIONS, MAX_PLAN_CONTENT_BYTES } from './plan-constants.js';
import { checkRepoRelativePath, diffHeaderPaths } from './repo-path.js';

type Check = (value: unknown) => string | undefined;

const MAX_TEXT = MAX_PLAN_CONTENT_BYTES;

const string =
  (min: number, max: number, pattern?: RegExp, patternMessage?: string): Check =>
  (value) => {
    if (typeof value !== 'string') return 'must be a string';
    if (value.length < min) return `must have at least ${min} character${min === 1 ? '' : 's'}`;
    if (value.length > max) return `must have at most ${max} characters`;
    if (pattern && !pattern.test(value)) return patternMessage ?? `must match ${pattern.source}`;
    return undefined;
  };
const oneOf =
  (values: readonly unknown[]): Check =>
  (value) =>
    values.includes(value) ? undefined : `must be one of ${values.map((item) => JSON.stringify(item)).join(', ')}`;
const boolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'must be a boolean');
const positiveInteger: Check = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 ? undefined : 'must be an integer >= 1';
const arrayOf =
  (item: Check, min: number, max: number): Check =>
  (value) => {
    if (!Array.isArray(value)) return 'must be an array';
    if (value.length < min || value.length > max) return `must hold ${min} to ${max} items`;
    for (const [index, element] of value.entries()) {
      const problem = item(element);
      if (problem) return `[${index}] ${problem}`;
    }
    return undefined;
  };

const path: Check = (value) => {
  if (typeof value !== 'string') return 'must be a string path';
  const reason = checkRepoRelativePath(value);
  return reason ? `path ${JSON.stringify(value)} ${reason}` : undefined;
};
const identifier = string(0, 200, /^[A-Za-z_$][\w$]*$/u, 'must be an identifier');
const dotted = string(0, 400, /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/u, 'must be an identifier or a dotted name');
const code = string(1, MAX_TEXT);
const text = string(0, MAX_TEXT);
const docstring = string(1, 20_000);
const moduleSpecifier = string(1, 400);
const language = oneOf(LANGUAGES);
const names = arrayOf(identifier, 1, 100);
const diff: Check = (value) => {
  const problem = string(1, MAX_TEXT)(value);
  if (problem) return problem;
  if (!/^(?:---|\+\+\+) /mu.test(value as string)) return 'diff has no ---/+++ file headers';
  for (const header of diffHeaderPaths(value as string)) {
    const reason = checkRepoRelativePath(header);
    if (reason) return `diff header path ${JSON.stringify(header)} ${reason}`;
  }
  return undefined;
};

/** An object's fields: `[check, required]`. Keys not listed are refused (strict objects, like the schema). */
type Fields = Readonly<Record<string, readonly [Check, boolean]>>;
const required = (check: Check) => [check, true] as const;
const optional = (check: Check) => [check, false] as const;

export const PAYLOAD_FIELDS: Readonly<Record<string, Fields>> = {
  create_file: { path: required(path), content: required(text), overwrite: optional(boolean) },
  append_to_file: { path: required(path), content: required(code) },
  insert_function: {
    path: required(path),
    language: required(language),
    name: required(identifier),
    code: required(code),
    docstring: optional(docstring),
    class_name: optional(identifier),
    after_symbol: optional(identifier),
    exported: optional(boolean),
  },
  insert_class: {
    path: required(path),
    language: required(language),
    name: required(identifier),
    code: required(code),
    docstring: optional(docstring),
    after_symbol: optional(identifier),
    exported: optional(boolean),
  },
  insert_import: {
    path: required(path),
    language: required(language),
    module: required(moduleSpecifier),
    names: optional(names),
    default_name: optional(identifier),
    namespace: optional(identifier),
    statement: required(string(1, 2000)),
  },
  replace_node: {
    path: required(path),
    language: required(language),
    node_kind: required(oneOf(['function', 'class', 'method', 'variable', 'interface', 'type_alias'])),
    name: required(identifier),
    class_name: optional(identifier),
    code: required(code),
  },
  rename_symbol: {
    path: required(path),
    language: required(language),
    old_name: required(dotted),
    new_name: required(identifier),
    scope: required(oneOf(['file', 'repository'])),
  },
  delete_lines: {
    path: required(path),
    start_line: required(positiveInteger),
    end_line: required(positiveInteger),
    expected_text: optional(text),
  },
  ensure_test: {
    path: required(path),
    test_path: required(path),
    language: required(language),
    framework: required(oneOf(['pytest', 'unittest', 'jest', 'vitest', 'node:test', 'mocha'])),
    test_name: required(string(1, 300)),
    code: required(code),
  },
  add_module_docstring: { path: required(path), language: required(language), docstring: required(docstring) },
  add_function_docstring: {
    path: required(path),
    language: required(language),
    function_name: required(identifier),
    class_name: optional(identifier),
    docstring: required(docstring),
  },
  apply_unified_diff: { path: required(path), diff: required(diff) },
  update_import: {
    path: required(path),
    language: required(language),
    module: required(moduleSpecifier),
    new_module: optional(moduleSpecifier),
    add_names: optional(names),
    remove_names: optional(names),
  },
  export_default: {
    path: required(path),
    language: required(oneOf(['typescript', 'javascript'])),
    name: required(identifier),
  },
  export_named: {
    path: required(path),
    language: required(oneOf(['typescript', 'javascript'])),
    names: required(names),
    from: optional(moduleSpecifier),
  },
  insert_interface: {
    path: required(path),
    language: required(oneOf(['typescript'])),
    name: required(identifier),
    code: required(code),
    exported: optional(boolean),
  },
  insert_type_alias: {
    path: required(path),
    language: required(oneOf(['typescript'])),
    name: required(identifier),
    code: required(code),
    exported: optional(boolean),
  },
};

/** Cross-field rules of the schema's `v.check`s, by action kind. */
const PAYLOAD_RULES: Readonly<Record<string, (payload: Record<string, unknown>) => string | undefined>> = {
  delete_lines: (payload) =>
    (payload.end_line as number) >= (payload.start_line as number) ? undefined : 'end_line must be >= start_line',
  update_import: (payload) =>
    payload.new_module !== undefined || payload.add_names !== undefined || payload.remove_names !== undefined
      ? undefined
      : 'update_import needs new_module, add_names or remove_names',
};

export const CONDITION_FIELDS: Fields = {
  kind: required(oneOf(['file_exists', 'file_absent', 'symbol_exists', 'symbol_absent'])),
  path: required(path),
  symbol: optional(dotted),
};

export const METADATA_FIELDS: Fields = {
  source: required(oneOf(['heuristic', 'llm', 'heuristic-fallback'])),
  instruction: required(string(0, MAX_INSTRUCTION_LENGTH)),
  planner: required(string(1, 400)),
  language: optional(language),
  rule: optional(string(0, 100)),
  clarification_needed: optional(boolean),
  questions: optional(arrayOf(string(0, 2000), 0, Number.MAX_SAFE_INTEGER)),
  fallback_reason: optional(string(0, 4000)),
  constrained_decoding: optional(boolean),
  repaired: optional(boolean),
  notes: optional(arrayOf(string(0, 2000), 0, Number.MAX_SAFE_INTEGER)),
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a strict object against its fields; returns `where: problem` or undefined. */
function checkObject(value: unknown, fields: Fields, where: string): string | undefined {
  if (!isRecord(value)) return `${where} must be an object`;
  for (const key of Object.keys(value)) if (!Object.hasOwn(fields, key)) return `${where}.${key} is not a known field`;
  for (const [key, [check, isRequired]] of Object.entries(fields)) {
    const item = value[key];
    if (item === undefined) {
      if (isRequired) return `${where}.${key} is missing`;
      continue;
    }
    const problem = check(item);
    if (problem) return `${where}.${key} ${problem}`;
  }
  return undefined;
}

function checkConditions(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return `${where} must be an array`;
  if (value.length > MAX_PLAN_ACTIONS) return `${where} holds more than ${MAX_PLAN_ACTIONS} conditions`;
  for (const [index, condition] of value.entries()) {
    const problem = checkObject(condition, CONDITION_FIELDS, `${where}[${index}]`);
    if (problem) return problem;
  }
  return undefined;
}

const PLAN_KEYS = new Set([
  'version',
  'target_file',
  'actions',
  'preconditions',
  'postconditions',
  'metadata',
  'bundle_id',
]);

/**
 * Everything PlanSchema checks except `version` and `bundle_id`'s value (the caller checks those): returns
 * the first problem as `$.path problem`, or undefined when the plan has exactly the schema's shape.
 */
export function checkStoredPlanShape(plan: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(plan)) if (!PLAN_KEYS.has(key)) return `$.${key} is not a known field`;
  if (plan.target_file !== undefined) {
    const problem = path(plan.target_file);
    if (problem) return `$.target_file ${problem}`;
  }
  const actions = plan.actions;
  if (!Array.isArray(actions) || actions.length < 1 || actions.length > MAX_PLAN_ACTIONS)
    return `$.actions must hold 1 to ${MAX_PLAN_ACTIONS} actions`;
  for (const [index, action] of actions.entries()) {
    const where = `$.actions[${index}]`;
    if (!isRecord(action)) return `${where} must be an object`;
    const fields = typeof action.kind === 'string' ? PAYLOAD_FIELDS[action.kind] : undefined;
    if (!fields || !Object.hasOwn(PAYLOAD_FIELDS, action.kind as string)) return `${where}.kind is not a known action`;
    for (const key of Object.keys(action))
      if (key !== 'kind' && key !== 'payload') return `${where}.${key} is not a known field`;
    const problem = checkObject(action.payload, fields, `${where}.payload`);
    if (problem) return problem;
    const rule = PAYLOAD_RULES[action.kind as string]?.(action.payload as Record<string, unknown>);
    if (rule) return `${where}.payload ${rule}`;
  }
  if (Buffer.byteLength(JSON.stringify(actions), 'utf8') > MAX_PLAN_CONTENT_BYTES)
    return `$.actions carry more than ${MAX_PLAN_CONTENT_BYTES} bytes of content`;
  return (
    checkConditions(plan.preconditions, '$.preconditions') ??
    checkConditions(plan.postconditions, '$.postconditions') ??
    checkObject(plan.metadata, METADATA_FIELDS, '$.metadata') ??
    (typeof plan.bundle_id === 'string' && /^[0-9a-f]{64}$/u.test(plan.bundle_id)
      ? undefined
      : '$.bundle_id must be 64 lowercase hex digits')
  );
}

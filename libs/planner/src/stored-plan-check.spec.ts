import { describe, expect, it } from '@jest/globals';
import { ACTION_KINDS, ACTION_SCHEMAS, ConditionSchema, PlanMetadataSchema, type Plan } from './plan-schema.js';
import { checkPlan, computeBundleId, finalizePlan } from './plan-validation.js';
import { verifyStoredPlan } from './plan-content.js';
import { CONDITION_FIELDS, METADATA_FIELDS, PAYLOAD_FIELDS } from './stored-plan-check.js';
import { EXAMPLES } from './plan-examples.fixture.js';

type Entries = Record<string, { type: string }>;

/** The keys of a valibot strict object and which of them are optional. */
function shapeOf(entries: Entries): Record<string, boolean> {
  return Object.fromEntries(Object.entries(entries).map(([key, schema]) => [key, schema.type !== 'optional']));
}
function shapeOfFields(fields: Record<string, readonly [unknown, boolean]>): Record<string, boolean> {
  return Object.fromEntries(Object.entries(fields).map(([key, [, required]]) => [key, required]));
}

const accepts = (value: unknown): boolean => {
  try {
    verifyStoredPlan(value);
    return true;
  } catch {
    return false;
  }
};

/** Every place in a JSON value, as a path of keys. */
function places(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const result: (string | number)[][] = [path];
  if (Array.isArray(value)) value.forEach((item, index) => result.push(...places(item, [...path, index])));
  else if (value !== null && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) result.push(...places(item, [...path, key]));
  return result;
}

function mutate(plan: Plan, path: (string | number)[], change: (old: unknown) => unknown): Record<string, unknown> {
  const copy = structuredClone(plan) as unknown as Record<string, unknown>;
  type Node = Record<string | number, unknown> & unknown[];
  let parent = copy as Node;
  for (const key of path.slice(0, -1)) parent = parent[key] as Node;
  const last = path[path.length - 1]!;
  const next = change(parent[last]);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

const CHANGES: [string, (old: unknown) => unknown][] = [
  ['wrapped in an array', (old) => [old]],
  ['wrapped in an object', (old) => ({ path: old })],
  ['a number', () => 42],
  ['a negative number', () => -1],
  ['null', () => null],
  ['an escaping path', () => '../../etc/passwd'],
  ['an absolute path', () => '/etc/passwd'],
  ['an empty string', () => ''],
  ['a boolean', () => true],
  ['removed', () => undefined],
  ['an extra key', (old) => (old !== null && typeof old === 'object' && !Array.isArray(old) ? { ...old, x: 1 } : old)],
];

describe('the hand-written stored-plan check agrees with the valibot schema', () => {
  it('knows the same fields (and the same optional ones) for every action kind, condition and metadata', () => {
    for (const kind of ACTION_KINDS) {
      const payload = (ACTION_SCHEMAS[kind] as unknown as { entries: { payload: { entries: Entries } } }).entries
        .payload;
      expect([kind, shapeOfFields(PAYLOAD_FIELDS[kind]!)]).toEqual([kind, shapeOf(payload.entries)]);
    }
    expect(Object.keys(PAYLOAD_FIELDS).sort()).toEqual([...ACTION_KINDS].sort());
    expect(shapeOfFields(CONDITION_FIELDS)).toEqual(shapeOf(ConditionSchema.entries as unknown as Entries));
    expect(shapeOfFields(METADATA_FIELDS)).toEqual(shapeOf(PlanMetadataSchema.entries as unknown as Entries));
  });

  it('gives the same verdict as checkPlan on a valid plan of every kind and on every mutation of every field', () => {
    let compared = 0;
    let refused = 0;
    for (const kind of ACTION_KINDS) {
      const plan = finalizePlan(
        {
          target_file: 'src/a.py',
          actions: [EXAMPLES[kind]],
          preconditions: [{ kind: 'symbol_exists', path: 'src/a.py', symbol: 'A.run' }],
        },
        {
          source: 'heuristic',
          instruction: 'test',
          planner: 'heuristic',
          language: 'python',
          rule: 'r',
          clarification_needed: true,
          questions: ['which?'],
          notes: ['n'],
        },
      );
      expect(accepts(plan)).toBe(true);
      for (const path of places(plan)) {
        if (path.length === 0 || path[0] === 'bundle_id' || path[0] === 'version') continue;
        for (const [, change] of CHANGES) {
          const edited = mutate(plan, path, change);
          edited.bundle_id = computeBundleId(edited as unknown as Plan); // a forger recomputes it
          const reference = checkPlan(edited).success;
          expect([kind, path.join('.'), JSON.stringify(edited).slice(0, 0), accepts(edited)]).toEqual([
            kind,
            path.join('.'),
            '',
            reference,
          ]);
          compared += 1;
          if (!reference) refused += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(compared / 2);
  });

  it('refuses array-valued and nested paths anywhere (they slipped past the old check)', () => {
    const plan = finalizePlan(
      { actions: [EXAMPLES.ensure_test] },
      { source: 'heuristic', instruction: 't', planner: 'h' },
    );
    for (const path of [
      ['actions', 0, 'payload', 'path'],
      ['actions', 0, 'payload', 'test_path'],
    ]) {
      const edited = mutate(plan, path, () => ['../../etc/passwd']);
      edited.bundle_id = computeBundleId(edited as unknown as Plan);
      expect(() => verifyStoredPlan(edited)).toThrow(/must be a string path/u);
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { validateJsonSchema } from '@nerion/backend-core';
import { ACTION_KINDS, MAX_PLAN_ACTIONS, type PlanDraft } from './plan-schema.js';
import {
  checkPlan,
  checkPlanDraft,
  computeBundleId,
  finalizePlan,
  planPaths,
  validatePlan,
} from './plan-validation.js';
import { verifyStoredPlan } from './plan-content.js';
import { planDraftJsonSchema } from './plan-json-schema.js';
import { EXAMPLES } from './plan-examples.fixture.js';

const metadata = { source: 'heuristic' as const, instruction: 'test', planner: 'heuristic' };

function draftWith(action: unknown, extra: Record<string, unknown> = {}): unknown {
  return { actions: [action], ...extra };
}

function firstIssue(value: unknown): { path: string; message: string } {
  const result = checkPlanDraft(value);
  if (result.success) throw new Error('expected the draft to be rejected');
  return result.issues[0]!;
}

describe('plan schema', () => {
  it('has all 17 action kinds of product-spec §6, and accepts a full example of each', () => {
    expect(ACTION_KINDS).toHaveLength(17);
    for (const kind of ACTION_KINDS) {
      const plan = finalizePlan({ target_file: 'src/a.py', actions: [EXAMPLES[kind]] }, metadata);
      expect(plan.actions[0]).toEqual(EXAMPLES[kind]); // nothing an applier needs is dropped
    }
  });

  it('rejects unknown payload fields (strict payloads) and names the field', () => {
    const action = { kind: 'insert_function', payload: { ...EXAMPLES.insert_function.payload, body: 'x' } };
    expect(firstIssue(draftWith(action)).path).toBe('$.actions[0].payload.body');
  });

  it('rejects a payload of the wrong kind and a missing required field', () => {
    expect(checkPlanDraft(draftWith({ kind: 'create_file', payload: EXAMPLES.rename_symbol.payload })).success).toBe(
      false,
    );
    const { code: _code, ...withoutCode } = EXAMPLES.insert_class.payload as Record<string, unknown>;
    expect(firstIssue(draftWith({ kind: 'insert_class', payload: withoutCode })).path).toBe(
      '$.actions[0].payload.code',
    );
    expect(firstIssue(draftWith({ kind: 'launch_rockets', payload: {} })).path).toBe('$.actions[0].kind');
  });

  it.each([
    ['/etc/passwd', 'absolute'],
    ['../outside.py', '".."'],
    ['src/../../outside.py', '".."'],
    ['src\\..\\..\\x.py', 'backslash'],
    ['src/a\0.py', 'NUL'],
    ['C:/Windows/x.py', 'absolute'],
    ['.git/hooks/pre-commit', '.git'],
    ['~/x.py', '~'],
    ['.', 'root'],
  ])('jails every path-bearing field: %s is rejected (%s)', (path, reason) => {
    for (const value of [
      draftWith({ ...EXAMPLES.create_file, payload: { ...EXAMPLES.create_file.payload, path } }),
      draftWith(EXAMPLES.create_file, { target_file: path }),
      draftWith({ ...EXAMPLES.ensure_test, payload: { ...EXAMPLES.ensure_test.payload, test_path: path } }),
      draftWith(EXAMPLES.create_file, { preconditions: [{ kind: 'file_exists', path }] }),
    ]) {
      const issue = firstIssue(value);
      expect(issue.message).toContain(reason);
    }
  });

  it('accepts paths that only look odd but stay inside (./src//a.ts, a..b.ts) and normalises them', () => {
    const plan = finalizePlan(
      {
        target_file: './src//a.ts',
        actions: [{ kind: 'create_file', payload: { path: './src/x/../a..b.ts', content: '' } }],
      },
      metadata,
    );
    expect(plan.target_file).toBe('src/a.ts');
    expect(plan.actions[0]!.payload.path).toBe('src/a..b.ts');
  });

  it('jails unified-diff headers (---/+++, diff --git, rename)', () => {
    const diff = (header: string) =>
      draftWith({ kind: 'apply_unified_diff', payload: { path: 'src/a.py', diff: header } });
    expect(firstIssue(diff('--- a/src/a.py\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n')).message).toContain(
      'diff header path "../../etc/passwd"',
    );
    expect(firstIssue(diff('--- /etc/passwd\n+++ b/src/a.py\n')).message).toContain('absolute');
    expect(firstIssue(diff('diff --git a/x b/../y\n--- a/x\n+++ b/../y\n')).message).toContain('".."');
    expect(firstIssue(diff('diff --git a/x b/y\nrename from x\nrename to ../y\n--- a/x\n+++ b/y\n')).message).toContain(
      '".."',
    );
    expect(firstIssue(diff('@@ -1 +1 @@\n-a\n+b\n')).message).toContain('no ---/+++');
    expect(checkPlanDraft(diff('--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1 @@\n+x = 1\n')).success).toBe(true);
  });

  it('limits a plan to 1..200 actions and 300 KB of content', () => {
    expect(firstIssue({ actions: [] }).message).toContain('at least one action');
    const many = Array.from({ length: MAX_PLAN_ACTIONS + 1 }, () => EXAMPLES.append_to_file);
    expect(firstIssue({ actions: many }).message).toContain('at most 200');
    expect(checkPlanDraft({ actions: many.slice(0, MAX_PLAN_ACTIONS) }).success).toBe(true);
    const big = { kind: 'create_file', payload: { path: 'big.txt', content: 'x'.repeat(160 * 1024) } };
    expect(firstIssue({ actions: [big, big] }).message).toContain('bytes of content');
  });

  it('checks delete_lines ranges and integer line numbers', () => {
    expect(
      checkPlanDraft(draftWith({ kind: 'delete_lines', payload: { path: 'a.py', start_line: 5, end_line: 3 } }))
        .success,
    ).toBe(false);
    expect(
      checkPlanDraft(draftWith({ kind: 'delete_lines', payload: { path: 'a.py', start_line: 1.5, end_line: 3 } }))
        .success,
    ).toBe(false);
  });

  it('derives bundle_id from the content and rejects a plan whose bundle_id does not match', () => {
    const draft: PlanDraft = { actions: [EXAMPLES.create_file] };
    const plan = finalizePlan(draft, metadata);
    expect(plan.bundle_id).toBe(computeBundleId(draft));
    expect(finalizePlan(draft, { ...metadata, instruction: 'other words' }).bundle_id).toBe(plan.bundle_id);
    const tampered = { ...plan, actions: [EXAMPLES.append_to_file] };
    const result = checkPlan(tampered);
    expect(result.success ? undefined : result.issues[0]!.path).toBe('$.bundle_id');
    expect(() => validatePlan({ ...plan, extra: 1 })).toThrow(expect.objectContaining({ code: 'PLAN_INVALID' }));
  });

  it('lists every path a plan names, diff headers included', () => {
    const plan = finalizePlan(
      {
        target_file: 'src/a.py',
        actions: [
          EXAMPLES.ensure_test,
          { kind: 'apply_unified_diff', payload: { path: 'src/a.py', diff: '--- a/src/a.py\n+++ b/src/b.py\n' } },
        ],
      },
      metadata,
    );
    expect(planPaths(plan).sort()).toEqual(['src/a.py', 'src/b.py', 'tests/test_a.py']);
  });
});

describe('verifyStoredPlan (the light check of a plan-cache hit)', () => {
  const plan = finalizePlan({ target_file: 'src/a.py', actions: [EXAMPLES.insert_function] }, metadata);

  it('accepts a stored valid plan as it is', () => {
    expect(verifyStoredPlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('refuses an edited entry (content no longer matches bundle_id), another schema version, or a jailbreak', () => {
    const edited = { ...plan, actions: [{ kind: 'create_file', payload: { path: 'src/a.py', content: 'pwned' } }] };
    expect(() => verifyStoredPlan(edited)).toThrow(
      expect.objectContaining({ code: 'PLAN_INVALID', message: expect.stringContaining('bundle_id') }),
    );
    expect(() => verifyStoredPlan({ ...plan, version: 2 })).toThrow(expect.objectContaining({ code: 'PLAN_INVALID' }));
    const escaping = { ...plan, target_file: '../x.py' };
    expect(() => verifyStoredPlan({ ...escaping, bundle_id: computeBundleId(escaping) })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('".."') }),
    );
    expect(() => verifyStoredPlan({ ...plan, actions: [{ kind: 'launch', payload: {} }] })).toThrow(
      expect.objectContaining({ code: 'PLAN_INVALID' }),
    );
    expect(() => verifyStoredPlan('plan')).toThrow(expect.objectContaining({ code: 'PLAN_INVALID' }));
  });
});

describe('plan JSON Schema (for constrained decoding)', () => {
  it('is generated once from the valibot schema and carries every kind as a strict alternative', () => {
    const schema = planDraftJsonSchema();
    expect(planDraftJsonSchema()).toBe(schema);
    const actions = (schema.properties as Record<string, Record<string, unknown>>).actions!;
    expect(actions.minItems).toBe(1);
    expect(actions.maxItems).toBeUndefined(); // left to validation: grammar engines expand bounds into repetitions
    const alternatives = (actions.items as { oneOf: Record<string, unknown>[] }).oneOf;
    expect(
      alternatives
        .map((alternative) => (alternative.properties as Record<string, { const: string }>).kind.const)
        .sort(),
    ).toEqual([...ACTION_KINDS].sort());
    for (const alternative of alternatives)
      expect((alternative.properties as Record<string, Record<string, unknown>>).payload!.additionalProperties).toBe(
        false,
      );
  });

  it('accepts every valid example and rejects an unknown payload field', () => {
    const schema = planDraftJsonSchema();
    for (const kind of ACTION_KINDS) expect(validateJsonSchema(schema, { actions: [EXAMPLES[kind]] })).toEqual([]);
    const extra = { actions: [{ kind: 'create_file', payload: { path: 'a', content: '', mode: 755 } }] };
    expect(validateJsonSchema(schema, extra).length).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from '@jest/globals';
import { NerionError } from '@nerion/backend-core';
import { planHeuristically } from '../heuristic-planner.js';
import { checkPlanAgainst } from './check.js';
import { formatEvalReport, loadPlanEvalSet, runHeuristicEval } from './plan-eval.js';

describe('the planner evaluation set', () => {
  it('has at least 60 instructions over a Python and a TypeScript fixture repository, some marked for the bench', () => {
    const set = loadPlanEvalSet();
    expect(set.cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(set.cases.map((item) => item.repo))).toEqual(new Set(['python-app', 'ts-lib']));
    expect(new Set(set.cases.map((item) => item.id)).size).toBe(set.cases.length);
    const bench = set.cases.filter((item) => item.bench);
    expect(bench.length).toBeGreaterThanOrEqual(8);
    expect(bench.every((item) => item.expect !== 'ask')).toBe(true);
  });

  it('the repository-aware heuristic planner gets at least 90% right and none wrong', async () => {
    const report = await runHeuristicEval();
    const summary = formatEvalReport(report);
    // The report names every failure, so a regression shows which instruction broke.
    expect({ wrong: report.wrong, summary }).toEqual({ wrong: 0, summary: expect.any(String) });
    expect(report.right / report.total).toBeGreaterThanOrEqual(0.9);
    expect(summary).toMatch(/^heuristic planner: right \/ asked \/ wrong = \d+ \/ \d+ \/ 0 of \d+/u);
  }, 120_000);
});

describe('checkPlanAgainst (the checker the bench shares)', () => {
  const plan = planHeuristically({ instruction: 'add a function clamp(x) to src/a.py' });
  const expectation = {
    actions: [
      {
        kind: 'insert_function' as const,
        payload: { name: 'clamp', code: { $contains: 'def clamp(x):' }, class_name: { $absent: true } },
      },
    ],
    postconditions: [{ kind: 'symbol_exists' as const, symbol: 'clamp' }],
  };

  it('says right for the expected kind and payload fields', () => {
    expect(checkPlanAgainst({ plan }, expectation)).toEqual({ verdict: 'right', reason: '' });
  });

  it('says wrong, with the field, for another payload, kind, count or a missing condition', () => {
    const other = { actions: [{ kind: 'insert_function' as const, payload: { name: 'clip' } }] };
    expect(checkPlanAgainst({ plan }, other)).toEqual({
      verdict: 'wrong',
      reason: 'action 0 (insert_function): name is "clamp", expected "clip"',
    });
    expect(checkPlanAgainst({ plan }, { actions: [{ kind: 'insert_class' }] }).verdict).toBe('wrong');
    expect(checkPlanAgainst({ plan }, { actions: [] }).verdict).toBe('wrong');
    expect(
      checkPlanAgainst({ plan }, { ...expectation, preconditions: [{ kind: 'file_exists', path: 'src/a.py' }] }),
    ).toMatchObject({ verdict: 'wrong', reason: expect.stringMatching(/^preconditions lack/u) });
    const contains = { actions: [{ kind: 'insert_function' as const, payload: { code: { $contains: 'nope' } } }] };
    expect(checkPlanAgainst({ plan }, contains).verdict).toBe('wrong');
  });

  it('tells a question from a plan: right when one was expected, asked when actions were', () => {
    const question = planHeuristically({ instruction: 'make it better', targetFile: 'src/a.py' });
    expect(checkPlanAgainst({ plan: question }, 'ask').verdict).toBe('right');
    expect(checkPlanAgainst({ plan: question }, expectation).verdict).toBe('asked');
    expect(checkPlanAgainst({ error: new NerionError('INVALID_REQUEST', 'no file') }, 'ask').verdict).toBe('right');
    expect(checkPlanAgainst({ plan }, 'ask')).toEqual({
      verdict: 'wrong',
      reason: 'planned insert_function where a question was expected',
    });
    expect(checkPlanAgainst({ error: new NerionError('PLAN_INVALID', 'bad') }, expectation)).toEqual({
      verdict: 'wrong',
      reason: 'failed: [PLAN_INVALID] bad',
    });
  });
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlanEvalSet, runHeuristicEval } from '@nerion/planner';
import { applyPlan } from '../src/index.js';

// The planner and the applier agree: every plan the heuristic planner gets right on its evaluation set
// (exact delete_lines with expected_text, update_import, one-line diffs, repository-wide renames, tests
// in the repository's layout, …) applies to its fixture repository — preconditions, expected text,
// postconditions and "the changed files still parse" all hold. Dry runs on a copy: nothing is written.
describe('the heuristic evaluation set’s plans apply to their fixtures (dry run)', () => {
  const set = loadPlanEvalSet();
  const copies = new Map<string, string>();
  const copyOf = (repo: string): string => {
    let root = copies.get(repo);
    if (!root) {
      root = mkdtempSync(join(tmpdir(), `nerion-eval-apply-${repo}-`));
      cpSync(join(set.fixturesDir, repo), root, { recursive: true });
      copies.set(repo, root);
    }
    return root;
  };
  afterAll(() => {
    for (const root of copies.values()) rmSync(root, { recursive: true, force: true });
  });

  it('applies every right plan that is not a question', async () => {
    const report = await runHeuristicEval(set);
    const failures: string[] = [];
    let applied = 0;
    for (const result of report.results) {
      if (result.verdict !== 'right' || !('plan' in result.outcome)) continue;
      const plan = result.outcome.plan;
      if (plan.metadata.clarification_needed) continue;
      try {
        // A test that already exists is no change (ensure_test is idempotent); everything else changes files.
        await applyPlan(plan, { root: copyOf(result.case.repo), dryRun: true });
        applied += 1;
      } catch (error) {
        failures.push(`${result.case.id} "${result.case.instruction}": ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(applied).toBeGreaterThanOrEqual(90);
  }, 180_000);
});

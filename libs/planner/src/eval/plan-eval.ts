/**
 * The planner evaluation set: instructions over two fixture repositories (a small Python app and a small
 * TypeScript library, in `libs/planner/eval/fixtures/`), each with its expected actions or "ask"
 * (`libs/planner/eval/cases.json`). `runHeuristicEval()` plans every case with the repository-aware heuristic
 * planner and checks it with `checkPlanAgainst`; `formatEvalReport()` prints `right / asked / wrong` and
 * the failures. Cases marked `bench` are the fixed set `nerion models bench --task plan` runs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { NerionError } from '@nerion/backend-core';
import { planHeuristically } from '../heuristic-planner.js';
import { openRepository } from '../repository.js';
import { checkPlanAgainst, type PlanExpectation, type PlanOutcome, type PlanVerdict } from './check.js';

export interface PlanEvalCase {
  id: string;
  /** The fixture repository: a folder under eval/fixtures/. */
  repo: string;
  instruction: string;
  /** `-f`, repo-relative. */
  file?: string;
  expect: PlanExpectation;
  /** Part of the fixed set of `nerion models bench --task plan`. */
  bench?: boolean;
}

export interface PlanEvalSet {
  /** Absolute folder holding one folder per fixture repository. */
  fixturesDir: string;
  cases: PlanEvalCase[];
}

export interface PlanEvalResult {
  case: PlanEvalCase;
  verdict: PlanVerdict;
  reason: string;
  outcome: PlanOutcome;
}

export interface PlanEvalReport {
  total: number;
  right: number;
  asked: number;
  wrong: number;
  results: PlanEvalResult[];
}

/** The folder of the evaluation set shipped with this package (`eval/`, beside `src/` and `dist/`). */
export function planEvalDir(): string {
  return fileURLToPath(new URL('../../eval/', import.meta.url));
}

/** Reads the evaluation set (`eval/cases.json`); `dir` defaults to the one shipped with the package. */
export function loadPlanEvalSet(dir = planEvalDir()): PlanEvalSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  } catch (error) {
    throw new NerionError(
      'INVALID_REQUEST',
      `Cannot read the plan evaluation set in ${dir} (${(error as Error).message}).`,
      {
        cause: error,
      },
    );
  }
  const cases = (parsed as { cases?: unknown }).cases;
  if (!Array.isArray(cases))
    throw new NerionError('INVALID_REQUEST', `${join(dir, 'cases.json')} has no "cases" array.`);
  return { fixturesDir: join(dir, 'fixtures'), cases: cases as PlanEvalCase[] };
}

/** Sums verdicts into a report. */
export function summariseEval(results: PlanEvalResult[]): PlanEvalReport {
  const count = (verdict: PlanVerdict): number => results.filter((result) => result.verdict === verdict).length;
  return { total: results.length, right: count('right'), asked: count('asked'), wrong: count('wrong'), results };
}

/** Plans every case with the repository-aware heuristic planner and checks it. */
export async function runHeuristicEval(set: PlanEvalSet = loadPlanEvalSet()): Promise<PlanEvalReport> {
  const results: PlanEvalResult[] = [];
  for (const item of set.cases) {
    // A fresh view per case: nothing one case reads or parses leaks into the next.
    const repository = await openRepository({ root: join(set.fixturesDir, item.repo) });
    let outcome: PlanOutcome;
    try {
      outcome = {
        plan: planHeuristically(
          { instruction: item.instruction, ...(item.file === undefined ? {} : { targetFile: item.file }) },
          repository,
        ),
      };
    } catch (error) {
      outcome = { error };
    }
    const { verdict, reason } = checkPlanAgainst(outcome, item.expect);
    results.push({ case: item, verdict, reason, outcome });
  }
  return summariseEval(results);
}

function percent(part: number, total: number): string {
  return total === 0 ? '0%' : `${((100 * part) / total).toFixed(1)}%`;
}

/** `right / asked / wrong: R / A / W of N (r% right)` and one line per case that is not right. */
export function formatEvalReport(report: PlanEvalReport, title = 'heuristic planner'): string {
  const lines = [
    `${title}: right / asked / wrong = ${report.right} / ${report.asked} / ${report.wrong} of ${report.total} (${percent(report.right, report.total)} right)`,
  ];
  for (const result of report.results) {
    if (result.verdict === 'right') continue;
    const file = result.case.file ? ` -f ${result.case.file}` : '';
    lines.push(
      `  ${result.verdict.toUpperCase()} ${result.case.id} [${result.case.repo}] "${result.case.instruction}"${file}: ${result.reason}`,
    );
  }
  return lines.join('\n');
}

// The planner evaluation set (libs/planner/eval/): plans every instruction with the repository-aware
// heuristic planner over its fixture repository and prints `right / asked / wrong` and every case that is
// not right. Exit status 1 when right < 90% or anything is wrong (the thresholds the test holds).
//   npm run build && node tools/eval/plan-eval.mjs [--verbose]
import { formatEvalReport, runHeuristicEval } from '@nerion/planner';

const verbose = process.argv.includes('--verbose');
const report = await runHeuristicEval();
console.log(formatEvalReport(report));
if (verbose) {
  for (const result of report.results) {
    if (result.verdict !== 'right') continue;
    const plan = 'plan' in result.outcome ? result.outcome.plan : undefined;
    const what = plan
      ? plan.metadata.clarification_needed
        ? 'asks'
        : plan.actions.map((a) => a.kind).join(', ')
      : 'asks (error)';
    console.log(`  right ${result.case.id} "${result.case.instruction}": ${what}`);
  }
}
const byRepo = new Map();
for (const result of report.results) {
  const counts = byRepo.get(result.case.repo) ?? { right: 0, asked: 0, wrong: 0 };
  counts[result.verdict] += 1;
  byRepo.set(result.case.repo, counts);
}
for (const [repo, counts] of byRepo) console.log(`  ${repo}: ${counts.right} / ${counts.asked} / ${counts.wrong}`);
process.exit(report.wrong === 0 && report.right / report.total >= 0.9 ? 0 : 1);

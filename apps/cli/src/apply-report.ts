/**
 * Applying a plan from the CLI (`nerion apply`, `nerion plan … --apply|--diff`): calls @nerion/plan-apply
 * (loaded lazily; it loads no inference engine) and renders the result. stdout carries the diff (`--diff`) or
 * the list of changed files; notes go to stderr.
 */
import type { ApplyResult } from '@nerion/plan-apply';

export interface ApplyRequest {
  plan: unknown;
  root: string;
  dryRun: boolean;
  force: boolean;
  /** The command line that would apply it with --force (the fix shown when a plan asks for clarification). */
  forceCommand: readonly string[];
}

export async function runApply(request: ApplyRequest, note: (message: string) => void): Promise<ApplyResult> {
  const { applyPlan } = await import('@nerion/plan-apply');
  const result = await applyPlan(request.plan, {
    root: request.root,
    dryRun: request.dryRun,
    force: request.force,
    forceCommand: request.forceCommand,
    warn: note,
  });
  for (const line of result.notes) note(line);
  return result;
}

const STATUS_LETTER = { created: 'A', modified: 'M', deleted: 'D' } as const;

/** What a person sees: the diff for a dry run, else one line per changed file. */
export function renderApplyResult(result: ApplyResult): { stdout: string; stderr: string[] } {
  const unchanged = result.actions.filter((action) => action.outcome === 'unchanged').length;
  const stderr: string[] = [];
  if (unchanged > 0)
    stderr.push(`${unchanged} action${unchanged === 1 ? ' was' : 's were'} already in place (nothing to change)`);
  if (result.files.length === 0) {
    stderr.push('the plan changes nothing');
    return { stdout: '', stderr };
  }
  if (result.dry_run) {
    stderr.push(
      `dry run: nothing was written (${result.files.length} file${result.files.length === 1 ? '' : 's'} would change)`,
    );
    return { stdout: result.diff, stderr };
  }
  const lines = [
    `applied plan ${result.bundle_id.slice(0, 12)}: ${result.files.length} file${result.files.length === 1 ? '' : 's'} changed`,
    ...result.files.map((file) => `${STATUS_LETTER[file.status]} ${file.path} (+${file.added} -${file.removed})`),
  ];
  return { stdout: `${lines.join('\n')}\n`, stderr };
}

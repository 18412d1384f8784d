/**
 * Applying a plan, all or nothing:
 *   1. the plan is validated (schema, bundle_id against its content), refused when it asks for clarification
 *      (unless forced), its paths are jailed on disk (symlinks included) and its preconditions checked;
 *   2. every action's edit is computed in memory, in plan order, each on the result of the previous ones;
 *   3. each changed file is written atomically (temp file + rename, write-file-atomic), after checking that
 *      nobody changed it meanwhile;
 *   4. the written files are read back: each must hold what was computed and still parse without errors, and
 *      the postconditions must hold;
 *   5. on any failure after the first write, every file is restored to its original bytes and every created
 *      file and folder removed.
 */
import { mkdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createTwoFilesPatch, structuredPatch } from 'diff';
import writeFileAtomic from 'write-file-atomic';
import { NerionError, describeError, parseJson } from '@nerion/backend-core';
import {
  assertPathsInsideRepo,
  checkPlan,
  describeIssues,
  normaliseRepoPath,
  planPaths,
  type ActionKind,
  type Plan,
} from '@nerion/planner';
import { applyAction } from './actions.js';
import { checkCondition, describeCondition } from './conditions.js';
import type { ActionOutcome, EditContext } from './context.js';
import { firstSyntaxError, grammarFor, loadParsers, type Parsers } from './source.js';
import { Workspace, type FileState } from './workspace.js';
import { withRepositoryLock } from './repository-lock.js';

export interface ApplyOptions {
  /** The repository root every plan path is relative to. */
  root: string;
  /** Apply a plan whose metadata asks for clarification. */
  force?: boolean;
  /** Compute the edits and the diff, check everything, write nothing. */
  dryRun?: boolean;
  /** How many repository files a repository-scope rename looks at (default 20,000). */
  maxRepositoryFiles?: number;
  /** The command that re-runs this apply with --force (the fix of a refused clarification plan). */
  forceCommand?: readonly string[];
  /** How long a write waits for another apply's repository lock (`.nerion/apply.lock`; default 60 s). */
  lockWaitMs?: number;
  /** Told when this apply waits for another one's lock. */
  warn?: (message: string) => void;
}

export interface FileChange {
  path: string;
  status: 'created' | 'modified' | 'deleted';
  /** Lines added and removed. */
  added: number;
  removed: number;
}

export interface ActionReport {
  index: number;
  kind: ActionKind;
  path: string;
  outcome: ActionOutcome;
}

export interface ApplyResult {
  bundle_id: string;
  /** True when files were written (false for a dry run and for a plan that changes nothing). */
  applied: boolean;
  dry_run: boolean;
  files: FileChange[];
  actions: ActionReport[];
  notes: string[];
  /** The unified diff of every change (git style, `a/` and `b/` prefixes). */
  diff: string;
}

/** Parses a plan document (JSON text); throws PLAN_INVALID naming what is wrong. */
export function parsePlanText(text: string, source: string): Plan {
  const value = parseJson(
    text,
    (error) =>
      new NerionError(
        'PLAN_INVALID',
        `${source} is not JSON (${describeError(error)}); pass a plan printed by nerion plan.`,
        {
          cause: error,
          data: { source },
        },
      ),
  );
  return validateForApply(value, source);
}

function validateForApply(value: unknown, source: string): Plan {
  const result = checkPlan(value);
  if (result.success) return result.value;
  const bundle = result.issues.find(
    (issue) => issue.path === '$.bundle_id' && issue.message.startsWith('does not match'),
  );
  if (bundle)
    throw new NerionError(
      'PLAN_INVALID',
      `The plan in ${source} was changed after it was made: its bundle_id does not match its content. nerion applies only plans whose content is what was planned; plan again with \`nerion plan\`.`,
      { data: { source, issues: result.issues.slice(0, 20) }, fix: { command: replanCommand(value) } },
    );
  throw new NerionError('PLAN_INVALID', `The plan in ${source} is not valid: ${describeIssues(result.issues)}.`, {
    data: { source, issues: result.issues.slice(0, 20) },
  });
}

/** The `nerion plan` command line that plans the same instruction again (shown as a fix, never run). */
function replanCommand(value: unknown): string[] {
  const plan = (typeof value === 'object' && value !== null ? value : {}) as {
    target_file?: unknown;
    metadata?: { instruction?: unknown; source?: unknown };
  };
  const instruction = typeof plan.metadata?.instruction === 'string' ? plan.metadata.instruction : '<instruction>';
  return [
    'nerion',
    'plan',
    '-i',
    instruction,
    ...(typeof plan.target_file === 'string' ? ['-f', plan.target_file] : []),
    ...(plan.metadata?.source === 'llm' ? ['--llm'] : []),
  ];
}

/** Applies (or, with dryRun, previews) a plan. See the file comment for the order of work and the guarantees. */
export async function applyPlan(input: unknown, options: ApplyOptions): Promise<ApplyResult> {
  const plan = validateForApply(input, 'the plan');
  if (options.dryRun === true) return applyValidPlan(plan, options);
  // One apply at a time per repository, from the first read to the last check (see repository-lock.ts).
  return withRepositoryLock(
    options.root,
    {
      ...(options.lockWaitMs === undefined ? {} : { waitMs: options.lockWaitMs }),
      ...(options.warn ? { warn: options.warn } : {}),
    },
    () => applyValidPlan(plan, options),
  );
}

async function applyValidPlan(plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const root = options.root;
  if (plan.metadata.clarification_needed === true && options.force !== true) {
    const questions = plan.metadata.questions ?? [];
    throw new NerionError(
      'PRECONDITION_FAILED',
      `The plan asks for clarification${questions.length > 0 ? ` (${questions.join(' ')})` : ''}; nothing was applied. Rephrase the instruction and plan again, or pass --force to apply it as it is.`,
      {
        data: { bundle_id: plan.bundle_id, questions },
        ...(options.forceCommand === undefined ? {} : { fix: { command: options.forceCommand } }),
      },
    );
  }
  // 1. The jail, on disk, now (symlinks may have changed since planning), and the preconditions.
  assertPathsInsideRepo(root, planPaths(plan));
  const parsers = await loadParsers();
  const ws = new Workspace(root);
  const read = (path: string): string | null => ws.file(path).text;
  const failedPre = (plan.preconditions ?? [])
    .map((condition) => ({ condition, reason: checkCondition(condition, read, parsers) }))
    .filter((entry) => entry.reason !== undefined);
  if (failedPre.length > 0)
    throw new NerionError(
      'PRECONDITION_FAILED',
      `The plan does not fit the repository as it is now: ${failedPre.map((entry) => entry.reason).join('; ')}. Nothing was changed; plan again.`,
      {
        data: { preconditions: failedPre.map((entry) => ({ condition: entry.condition, reason: entry.reason })) },
        fix: { command: replanCommand(plan) },
      },
    );

  // 2. Every edit, in memory.
  const context: EditContext = {
    root,
    ws,
    parsers,
    notes: [],
    maxRepositoryFiles: options.maxRepositoryFiles ?? 20_000,
  };
  let actions: ActionReport[];
  try {
    actions = plan.actions.map((action, index) => ({
      index,
      kind: action.kind,
      path: normaliseRepoPath(action.payload.path),
      outcome: applyAction(context, action, index),
    }));
  } catch (error) {
    // An action that does not fit the files: planning again (from the files as they are) is the fix.
    if (NerionError.hasCode(error, 'PRECONDITION_FAILED') && error.fix === undefined)
      throw new NerionError(error.code, error.message, { data: error.data, fix: { command: replanCommand(plan) } });
    throw error;
  }
  const changed = ws.changed();
  // A repository-scope rename may touch files the plan does not name: jail them too.
  assertPathsInsideRepo(
    root,
    changed.map((state) => state.path),
  );
  const files = changed.map(describeChange);
  const diff = changed.map(unifiedDiff).join('');
  const result: ApplyResult = {
    bundle_id: plan.bundle_id,
    applied: false,
    dry_run: options.dryRun === true,
    files,
    actions,
    notes: context.notes,
    diff,
  };

  if (options.dryRun === true) {
    const failures = verify(plan, changed, parsers, (path) => ws.file(path).text);
    if (failures.length > 0)
      throw new NerionError(
        'APPLY_FAILED',
        `Applying the plan would fail: ${failures.join('; ')}. Nothing was written (dry run).`,
        { data: { failures, dry_run: true } },
      );
    return result;
  }
  if (changed.length === 0) return result;

  // 3. Write, after checking nobody changed the files since they were read.
  for (const state of changed) {
    const now = readBytes(join(root, state.path));
    const same = now === null ? state.original === null : state.original !== null && now.equals(state.original);
    if (!same)
      throw new NerionError(
        'PRECONDITION_FAILED',
        `${state.path} changed on disk while the plan was being applied; nothing was written. Run the command again.`,
        { data: { path: state.path } },
      );
  }
  const journal: Array<{ state: FileState; createdFolders: string[] }> = [];
  let failures: string[];
  try {
    for (const state of changed) {
      const absolute = join(root, state.path);
      const entry = { state, createdFolders: [] as string[] };
      journal.push(entry);
      if (state.text === null) {
        unlinkSync(absolute);
        continue;
      }
      entry.createdFolders = makeFolders(root, dirname(state.path));
      await writeFileAtomic(absolute, Workspace.encode(state), { fsync: true });
    }
    // 4. Read back, parse, postconditions.
    failures = verify(plan, changed, parsers, (path) => {
      const bytes = readBytes(join(root, path));
      if (bytes === null) return null;
      const state = ws.file(path);
      const text = bytes.toString('utf8').replace(/^\uFEFF/u, '');
      return state.crlf ? text.replace(/\r\n/gu, '\n') : text;
    });
    for (const state of changed) {
      const bytes = readBytes(join(root, state.path));
      const expected = state.text === null ? null : Workspace.encode(state);
      if (!(bytes === null ? expected === null : expected !== null && bytes.equals(expected)))
        failures.push(`${state.path} does not hold what was written`);
    }
  } catch (error) {
    failures = [`writing failed (${describeError(error)})`];
  }
  if (failures.length > 0) {
    // 5. Restore everything.
    const unrestored = await rollback(root, journal);
    throw new NerionError(
      'APPLY_FAILED',
      unrestored.length === 0
        ? `The plan was not applied: ${failures.join('; ')}. Every file was restored as it was.`
        : `The plan was not applied: ${failures.join('; ')}. Restoring failed for ${unrestored.join(', ')}; check those files (git diff).`,
      {
        data: { failures, restored: unrestored.length === 0, unrestored, bundle_id: plan.bundle_id },
        fix: { command: replanCommand(plan) },
      },
    );
  }
  result.applied = true;
  return result;
}

/** Changed files must parse cleanly (when they did before) and the postconditions must hold. */
function verify(plan: Plan, changed: FileState[], parsers: Parsers, read: (path: string) => string | null): string[] {
  const failures: string[] = [];
  for (const state of changed) {
    const grammar = grammarFor(state.path);
    const text = read(state.path);
    if (grammar === undefined || text === null) continue;
    if (state.originalText !== null && parsesWithErrors(parsers, grammar, state.originalText)) continue;
    const source = parsers.parse(grammar, text);
    try {
      const error = firstSyntaxError(source);
      if (error) failures.push(`${state.path} would not parse (line ${error.line}, column ${error.column})`);
    } finally {
      source.release();
    }
  }
  for (const condition of plan.postconditions ?? []) {
    const reason = checkCondition(condition, read, parsers);
    if (reason !== undefined) failures.push(`postcondition ${describeCondition(condition)} does not hold (${reason})`);
  }
  return failures;
}

function parsesWithErrors(parsers: Parsers, grammar: Parameters<Parsers['parse']>[0], text: string): boolean {
  const source = parsers.parse(grammar, text);
  try {
    return firstSyntaxError(source) !== undefined;
  } finally {
    source.release();
  }
}

function readBytes(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Creates the missing folders of a repo-relative folder path; returns those it created, outermost first. */
function makeFolders(root: string, folder: string): string[] {
  if (folder === '.' || folder === '') return [];
  const parts = folder.split('/');
  const created: string[] = [];
  for (let index = 1; index <= parts.length; index += 1) {
    const path = join(root, ...parts.slice(0, index));
    try {
      mkdirSync(path);
      created.push(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return created;
}

async function rollback(
  root: string,
  journal: Array<{ state: FileState; createdFolders: string[] }>,
): Promise<string[]> {
  const unrestored: string[] = [];
  for (const { state, createdFolders } of [...journal].reverse()) {
    const absolute = join(root, state.path);
    try {
      if (state.original === null) {
        try {
          unlinkSync(absolute);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      } else {
        const now = readBytes(absolute);
        if (now === null || !now.equals(state.original))
          await writeFileAtomic(absolute, state.original, { fsync: true });
      }
      for (const folder of [...createdFolders].reverse()) {
        try {
          rmdirSync(folder);
        } catch {
          // Not empty (something else was created there): leave it.
          break;
        }
      }
    } catch {
      unrestored.push(state.path);
    }
  }
  return unrestored;
}

function describeChange(state: FileState): FileChange {
  let added = 0;
  let removed = 0;
  for (const hunk of structuredPatch('a', 'b', state.originalText ?? '', state.text ?? '', '', '', { context: 0 })
    .hunks)
    for (const line of hunk.lines) {
      if (line.startsWith('+')) added += 1;
      else if (line.startsWith('-')) removed += 1;
    }
  return {
    path: state.path,
    status: state.originalText === null ? 'created' : state.text === null ? 'deleted' : 'modified',
    added,
    removed,
  };
}

/** A git-style unified diff of one file (3 lines of context). */
function unifiedDiff(state: FileState): string {
  const oldName = state.originalText === null ? '/dev/null' : `a/${state.path}`;
  const newName = state.text === null ? '/dev/null' : `b/${state.path}`;
  const patch = createTwoFilesPatch(oldName, newName, state.originalText ?? '', state.text ?? '', '', '', {
    context: 3,
  });
  // jsdiff starts with an `Index:`-less `===` line; keep only the ---/+++ headers and hunks.
  const lines = patch.split('\n');
  const start = lines.findIndex((line) => line.startsWith('--- '));
  return `diff --git a/${state.path} b/${state.path}\n${lines
    .slice(start)
    .map((line) => line.replace(/^(---|\+\+\+) (\S+)\t$/u, '$1 $2'))
    .join('\n')}`;
}

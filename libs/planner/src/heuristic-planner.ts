/**
 * The heuristic planner: recognises common instructions for Python and TypeScript/JavaScript targets and
 * turns them into plans without a model. Deterministic: the same instruction, target and repository content
 * give the same plan. Given a repository view (`openRepository`), it reads the target and the repository
 * first: deletions become exact `delete_lines`/`update_import`, renames become repository-wide when other
 * files refer to the symbol, edits to existing symbols carry preconditions, and tests follow the repository's
 * layout. An instruction it cannot map safely asks for clarification (see docs/plans.md): an instruction to
 * remove, delete, rename or change something never becomes an insertion.
 */
import { NerionError } from '@nerion/backend-core';
import { checkRepoRelativePath, normaliseRepoPath } from './repo-path.js';
import type { PlanDraft, PlanLanguage, Plan, PlanMetadata } from './plan-schema.js';
import { finalizePlan } from './plan-validation.js';
import type { RepositoryView } from './repository.js';
import { sourceLanguageOf } from './source/parse.js';
import {
  Question,
  blankQuotes,
  intentOf,
  type Context,
  type Intent,
  type Rule,
  type RuleResult,
} from './heuristic/context.js';
import {
  addClass,
  addFunction,
  addFunctionDocstring,
  addInterfaceOrType,
  addModuleDocstring,
  appendToFile,
  createFile,
  ensureTest,
  exportSymbol,
  insertImport,
} from './heuristic/add-rules.js';
import { changeImport, deleteLines, deleteSymbol, removeImport, renameSymbol } from './heuristic/edit-rules.js';
import { checkInstructionLength } from './instruction.js';

export interface HeuristicPlanInput {
  instruction: string;
  /** Repo-relative target file (`-f`); otherwise the planner looks for a file name in the instruction. */
  targetFile?: string;
}

export const HEURISTIC_PLANNER_ID = 'heuristic';

const FILE_TOKEN = String.raw`[\w@~+.-]*[\w@~+-](?:/[\w@~+.-]+)*\.[A-Za-z][\w]*`;
const FILE_RE = new RegExp(String.raw`(?:^|[\s"'\x60(])((?:\.{1,2}\/|\/)*${FILE_TOKEN})(?=$|[\s"'\x60),.:;!?])`, 'gu');

export function languageOf(path: string): PlanLanguage | undefined {
  return sourceLanguageOf(path);
}

/** Rules by the intent of the instruction's first verb; order matters (the more specific first). */
const RULES: Record<Intent, readonly Rule[]> = {
  remove: [deleteLines, removeImport, deleteSymbol],
  rename: [renameSymbol],
  change: [changeImport],
  add: [
    addFunctionDocstring,
    addModuleDocstring,
    addFunction,
    addClass,
    addInterfaceOrType,
    ensureTest,
    appendToFile,
    insertImport,
    exportSymbol,
    createFile,
  ],
  unknown: [addFunctionDocstring, addModuleDocstring, insertImport, exportSymbol],
};

/**
 * Plans with the heuristic rules. With `repository` (see `openRepository`) the target and the repository are
 * read first. Throws INVALID_REQUEST when there is neither a known pattern nor a target file.
 */
export function planHeuristically(input: HeuristicPlanInput, repository?: RepositoryView): Plan {
  checkInstructionLength(input.instruction);
  const instruction = input.instruction.trim().replace(/\s+/gu, ' ');
  if (instruction.length === 0)
    throw new NerionError(
      'INVALID_REQUEST',
      'The instruction is empty; say what to change, e.g. -i "add a function slugify to src/text.ts".',
    );
  const notes: string[] = [];
  let target = input.targetFile === undefined ? undefined : cleanPath(input.targetFile);
  const mentioned = chooseMention(instruction, repository);
  if (target === undefined && mentioned !== undefined) target = cleanPath(mentioned);
  else if (
    target !== undefined &&
    mentioned !== undefined &&
    cleanPath(mentioned) !== target &&
    languageOf(mentioned) !== undefined
  ) {
    notes.push(`The instruction mentions ${mentioned}; the plan targets ${target} as given by -f.`);
  }
  if (target !== undefined) {
    const reason = checkRepoRelativePath(target);
    if (reason)
      throw new NerionError(
        'PATH_ESCAPE',
        `The target file "${target}" ${reason}; name a file inside the repository.`,
        { data: { path: target } },
      );
  }
  const unquoted = blankQuotes(instruction);
  const text = target !== undefined && repository ? repository.read(target) : undefined;
  const context: Context = {
    instruction,
    unquoted,
    intent: intentOf(unquoted),
    target,
    language: target === undefined ? undefined : languageOf(target),
    repository,
    text,
    source: target !== undefined && text !== undefined && repository ? repository.parse(target) : undefined,
  };

  let result: RuleResult | undefined;
  try {
    for (const rule of RULES[context.intent]) {
      result = rule(context);
      if (result) break;
    }
  } catch (error) {
    if (!(error instanceof Question)) throw error;
    result = clarify(context, error);
  }
  if (!result) result = clarify(context);
  const draft: PlanDraft = {
    ...(target === undefined ? {} : { target_file: target }),
    actions: result.actions,
    ...(result.preconditions ? { preconditions: result.preconditions } : {}),
    ...(result.postconditions ? { postconditions: result.postconditions } : {}),
  };
  const allNotes = [...notes, ...(result.notes ?? [])];
  const metadata: PlanMetadata = {
    source: 'heuristic',
    instruction,
    planner: HEURISTIC_PLANNER_ID,
    ...(context.language ? { language: context.language } : {}),
    rule: result.rule,
    ...(result.questions ? { clarification_needed: true, questions: result.questions } : {}),
    ...(allNotes.length > 0 ? { notes: allNotes } : {}),
  };
  return finalizePlan(draft, metadata);
}

function cleanPath(path: string): string {
  const trimmed = path.trim().replace(/^["'`]|["'`]$/gu, '');
  return checkRepoRelativePath(trimmed) === undefined ? normaliseRepoPath(trimmed) : trimmed;
}

/**
 * The file the instruction is about, among the file names it mentions: one that exists in the repository,
 * one introduced by "in/to/into/from/of/file", one with a source extension; a quoted relative specifier
 * (`'./text.js'`) is a module, not the target. Ties go to the later mention ("… in src/index.ts").
 */
function chooseMention(instruction: string, repository: RepositoryView | undefined): string | undefined {
  let best: { path: string; score: number } | undefined;
  for (const match of instruction.matchAll(FILE_RE)) {
    const path = match[1];
    const at = match.index + match[0].length - path.length;
    const before = instruction.slice(0, at);
    const quoted = /["'\x60]$/u.test(before);
    let score = 0;
    if (
      /\b(?:in|to|into|from|of|inside|file|at the top of|at the end of|for)\s+(?:the\s+)?(?:file\s+)?$/iu.test(before)
    )
      score += 2;
    if (quoted && /^\.{1,2}\//u.test(path)) score -= 5;
    if (languageOf(path) !== undefined) score += 1;
    if (repository && checkRepoRelativePath(normaliseRepoPath(path)) === undefined) {
      try {
        if (repository.exists(normaliseRepoPath(path))) score += 4;
      } catch {
        // A path leading outside the repository is reported when it is planned, not here.
      }
    }
    if (best === undefined || score >= best.score) best = { path, score };
  }
  return best?.path;
}

function commentFor(language: PlanLanguage | undefined, text: string): string {
  const line = text.replace(/\s+/gu, ' ');
  return language === 'python'
    ? `# TODO(nerion): ${line}\n`
    : language
      ? `// TODO(nerion): ${line}\n`
      : `TODO(nerion): ${line}\n`;
}

function clarify(context: Context, question?: Question): RuleResult {
  if (context.target === undefined) {
    throw new NerionError(
      'INVALID_REQUEST',
      `The heuristic planner does not understand "${context.instruction}" and no target file is named. Pass -f FILE, rephrase (e.g. "add a function slugify to src/text.ts", "rename foo to bar in src/a.py"), or use --llm.`,
      { data: { instruction: context.instruction } },
    );
  }
  const path = context.target;
  return {
    rule: question ? `clarification:${question.rule}` : 'clarification',
    actions: [
      { kind: 'append_to_file', payload: { path, content: commentFor(context.language, context.instruction) } },
    ],
    questions: [
      ...(question
        ? [question.question]
        : [
            `Which change should be made to ${path}? The heuristic planner recognises: create a file, add a function/class/interface/type, add a module or function docstring, rename a symbol, add, change or remove an import, delete a function/class/method, export a symbol, append text, delete lines, add a test.`,
          ]),
      'Or run with --llm to let a coder model plan it.',
    ],
    notes: [
      'The only action is a TODO comment recording the instruction in the target file, so applying this plan changes no behaviour.',
    ],
  };
}

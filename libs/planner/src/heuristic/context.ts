/**
 * What every heuristic rule sees: the normalised instruction, the target file and its language, and — when
 * the planner was given a repository view — the target's text and parse. Also the small helpers the rules
 * share (names in instructions, exact line deletions, clarification results).
 */
import { NerionError } from '@nerion/backend-core';
import type { PlanAction, PlanCondition, PlanLanguage } from '../plan-schema.js';
import type { RepositoryView } from '../repository.js';
import { lineText, syntaxErrors, type ParsedSource } from '../source/index.js';

export const IDENT = String.raw`[A-Za-z_$][\w$]*`;
/** An identifier, optionally in backticks or quotes. */
export const QIDENT = String.raw`[\x60'"]?(${IDENT})[\x60'"]?`;
export const QDOTTED = String.raw`[\x60'"]?(${IDENT}(?:\.${IDENT})?)[\x60'"]?`;

/** Words that follow "add a helper …" but are not a name. */
const NOT_NAMES = new Set([
  'to',
  'in',
  'into',
  'that',
  'which',
  'for',
  'called',
  'named',
  'with',
  'the',
  'a',
  'an',
  'on',
  'at',
  'of',
  'from',
  'function',
  'method',
  'class',
  'and',
]);

export function isName(word: string | undefined): word is string {
  return word !== undefined && /^[A-Za-z_$][\w$]*$/u.test(word) && !NOT_NAMES.has(word.toLowerCase());
}

export type Intent = 'remove' | 'rename' | 'change' | 'add' | 'unknown';

export interface Context {
  instruction: string;
  /** The instruction with quoted text blanked out (verbs inside quotes are not the user's verbs). */
  unquoted: string;
  intent: Intent;
  target: string | undefined;
  language: PlanLanguage | undefined;
  repository: RepositoryView | undefined;
  /** The target's text, when a repository view was given and the file exists. */
  text: string | undefined;
  /** The target's parse, when it is a Python/TypeScript/JavaScript file that exists. */
  source: ParsedSource | undefined;
}

export interface RuleResult {
  rule: string;
  actions: PlanAction[];
  preconditions?: PlanCondition[];
  postconditions?: PlanCondition[];
  questions?: string[];
  notes?: string[];
}

export type Rule = (context: Context) => RuleResult | undefined;

/** A result that asks instead of guessing: `clarify()` turns it into the clarification plan. */
export class Question extends Error {
  constructor(
    readonly rule: string,
    readonly question: string,
  ) {
    super(question);
    this.name = 'Question';
  }
}

/** Thrown by a rule that recognised the instruction but cannot plan it safely. */
export function ask(rule: string, question: string): never {
  throw new Question(rule, question);
}

export function needTarget(context: Context, what: string): string {
  if (context.target === undefined) {
    throw new NerionError(
      'INVALID_REQUEST',
      `The instruction asks to ${what} but names no file; pass -f FILE or mention the file (e.g. "… in src/app.py").`,
    );
  }
  return context.target;
}

export function needLanguage(context: Context, path: string): PlanLanguage {
  if (!context.language) {
    throw new NerionError(
      'INVALID_REQUEST',
      `The heuristic planner writes code for Python (.py) and TypeScript/JavaScript (.ts, .tsx, .js, .mjs, …) files; "${path}" is neither. Use --llm, or target a supported file.`,
      { data: { path } },
    );
  }
  return context.language;
}

/** The parsed target, or a question when the repository was read and the file is missing or unparseable. */
export function needSource(context: Context, rule: string, what: string): ParsedSource | undefined {
  if (!context.repository) return undefined;
  const path = context.target!;
  if (context.text === undefined) ask(rule, `${path} does not exist (or cannot be read), so nerion cannot ${what}.`);
  if (!context.source) ask(rule, `${path} could not be parsed, so nerion cannot ${what}.`);
  const problems = syntaxErrors(context.source);
  if (problems.length > 0)
    ask(rule, `${path} has a syntax error on line ${problems[0].line}; fix it first, so nerion can ${what} exactly.`);
  return context.source;
}

/** Number of lines of a text (a final line break does not start another line). */
export function lineCount(source: Pick<ParsedSource, 'lines' | 'text'>): number {
  return source.text.endsWith('\n') ? source.lines.length - 1 : source.lines.length;
}

/**
 * The exact delete_lines action for lines start..end, widened over the blank lines that would be left doubled:
 * blank lines after the range when more code follows, else the blank lines before it.
 */
export function deletionAction(
  path: string,
  source: Pick<ParsedSource, 'lines' | 'text'>,
  start: number,
  end: number,
  tidy: boolean,
): PlanAction {
  const total = lineCount(source);
  const blank = (line: number): boolean => (source.lines[line - 1] ?? '').trim().length === 0;
  let first = start;
  let last = end;
  if (tidy) {
    let after = last;
    while (after + 1 <= total && blank(after + 1)) after += 1;
    const indent = (line: number): number => /^\s*/u.exec(source.lines[line - 1] ?? '')![0].length;
    // Code at the same depth follows: drop the blank lines after. Otherwise (end of file, end of the class
    // or block) drop the blank lines before, so the separation from what follows stays.
    if (after > last && after < total && indent(after + 1) >= indent(start)) last = after;
    else {
      if (after === total) last = after;
      while (first - 1 >= 1 && blank(first - 1)) first -= 1;
    }
  }
  return {
    kind: 'delete_lines',
    payload: { path, start_line: first, end_line: last, expected_text: lineText(source, first, last) },
  };
}

export function quotedSegments(instruction: string): string[] {
  const segments: string[] = [];
  for (const match of instruction.matchAll(/"([^"]+)"|'([^']+)'|\x60([^\x60]+)\x60|“([^”]+)”/gu))
    segments.push(match[1] ?? match[2] ?? match[3] ?? match[4]);
  return segments;
}

export function blankQuotes(instruction: string): string {
  return instruction.replace(/"[^"]*"|'[^']*'|\x60[^\x60]*\x60|“[^”]*”/gu, (match) => ' '.repeat(match.length));
}

const VERBS: readonly [RegExp, Intent][] = [
  [/\b(?:remove|delete|drop|strip|erase|eliminate|unimport|get rid of)\b/iu, 'remove'],
  [/\brename\b/iu, 'rename'],
  [/\b(?:change|replace|update|switch|modify|swap|point|rewrite)\b/iu, 'change'],
  [
    /\b(?:add|create|write|insert|implement|define|declare|make|generate|append|export|import|document|ensure|touch|put|introduce|from)\b/iu,
    'add',
  ],
];

/** The intent of the instruction: the kind of its first verb (outside quotes). */
export function intentOf(unquoted: string): Intent {
  let best: { index: number; intent: Intent } | undefined;
  for (const [pattern, intent] of VERBS) {
    const match = pattern.exec(unquoted);
    if (match && (best === undefined || match.index < best.index)) best = { index: match.index, intent };
  }
  return best?.intent ?? 'unknown';
}

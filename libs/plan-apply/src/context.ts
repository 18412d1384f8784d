import { NerionError } from '@nerion/backend-core';
import type { PlanLanguage } from '@nerion/planner';
import { firstSyntaxError, grammarFor, type Node, type Parsers, type SourceGrammar } from './source.js';
import type { Workspace } from './workspace.js';

/** What an action's edit sees: the in-memory files, the parsers, and where to record notes. */
export interface EditContext {
  readonly root: string;
  readonly ws: Workspace;
  readonly parsers: Parsers;
  /** Human notes about what an edit did or could not do (reported in the result). */
  readonly notes: string[];
  /** Bounds for repository-wide work (rename). */
  readonly maxRepositoryFiles: number;
}

export type ActionOutcome = 'applied' | 'unchanged';

/** Refuses an action that does not fit the files as they are: nothing has been written yet. */
export function refuse(message: string, data: Record<string, unknown> = {}): never {
  throw new NerionError('PRECONDITION_FAILED', message, { data });
}

/** The grammar to parse `path` with, or a refusal when nerion has no parser for it. */
export function grammarOf(path: string, language: PlanLanguage | undefined, what: string): SourceGrammar {
  const grammar = grammarFor(path, language);
  if (grammar === undefined) refuse(`${what}: nerion has no parser for ${path}.`, { path });
  return grammar;
}

/**
 * Parses `text` and hands the root node to `use`; the tree is freed afterwards. A file that does not parse
 * cleanly is refused, since edits located on a broken tree could land anywhere.
 */
export function withRoot<T>(
  context: EditContext,
  grammar: SourceGrammar,
  path: string,
  text: string,
  what: string,
  use: (root: Node) => T,
): T {
  const source = context.parsers.parse(grammar, text);
  try {
    const error = firstSyntaxError(source);
    if (error)
      refuse(
        `${what}: ${path} does not parse as ${grammar} (first error at line ${error.line}, column ${error.column}); fix the file first.`,
        { path, line: error.line, column: error.column },
      );
    return use(source.tree.rootNode);
  } finally {
    source.release();
  }
}

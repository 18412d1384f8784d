/**
 * The applier parses with the planner's one source-parsing layer (`@nerion/planner/source`: tree-sitter via
 * web-tree-sitter, grammars from @vscode/tree-sitter-wasm). This file only adapts it to what edits need:
 * parse by grammar, the root node, the first syntax error.
 */
import type { PlanLanguage } from '@nerion/planner';
import {
  loadSourceParser,
  sourceGrammarOf,
  syntaxErrors,
  type ParsedSource,
  type SourceGrammar,
} from '@nerion/planner/source';
import type { Node } from 'web-tree-sitter';

export type { Node } from 'web-tree-sitter';
export type { SourceGrammar } from '@nerion/planner/source';

/** A representative file name per grammar, for the path-keyed parser. */
const GRAMMAR_FILE: Record<SourceGrammar, string> = {
  python: 'source.py',
  typescript: 'source.ts',
  tsx: 'source.tsx',
  javascript: 'source.js',
};

/** The grammar for a path, by extension; else by the plan's `language`; undefined for other files. */
export function grammarFor(path: string, language?: PlanLanguage): SourceGrammar | undefined {
  return sourceGrammarOf(path) ?? language;
}

export interface Parsers {
  /** Parses `text`; the caller releases the source (`source.release()`) when done. */
  parse(grammar: SourceGrammar, text: string): ParsedSource;
}

/** Loads the parsers once (the planner's loader caches them per process). */
export async function loadParsers(): Promise<Parsers> {
  const parser = await loadSourceParser();
  return {
    parse(grammar, text) {
      return parser.parse(GRAMMAR_FILE[grammar], text)!;
    },
  };
}

/** Named children without the nulls web-tree-sitter's typings allow. */
export function kids(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

/** All children (named and anonymous). */
export function allKids(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

/** The first syntax error of a parsed file (1-based line and column), or undefined when it parsed cleanly. */
export function firstSyntaxError(source: ParsedSource): { line: number; column: number } | undefined {
  const first = syntaxErrors(source)[0];
  return first === undefined ? undefined : { line: first.line, column: first.column };
}

/**
 * Source parsing for planning and applying plans: ONE parser layer (tree-sitter via web-tree-sitter, grammars
 * from @vscode/tree-sitter-wasm) for Python, TypeScript (.ts/.tsx) and JavaScript. No regular expressions over
 * code: symbols, imports, identifier occurrences and syntax errors come from the syntax tree.
 *
 * API (all positions: lines 1-based inclusive; indices are UTF-16 offsets into the text, end exclusive):
 *
 *   const parser = await loadSourceParser();        // loads the wasm runtime + grammars once per process
 *   const source = parser.parse('app/calc.py', text); // sync from here on; undefined for other extensions
 *   // or: const source = await parseSource('app/calc.py', text);  (throws INVALID_REQUEST for other extensions)
 *   source.language                 // 'python' | 'typescript' | 'javascript'
 *   findSymbols(source)             // SourceSymbol[]: functions, classes, methods (`Class.m`), variables, interfaces, …
 *   findSymbol(source, 'Calc.add')  // one symbol by name or qualified name (first match), else undefined
 *   findImports(source)             // SourceImport[]: module, style, names, default/namespace/alias, statement span
 *                                   // (style 'reexport' for `export … from 'm'`: refers to m, binds nothing)
 *   findIdentifiers(source, 'add')  // every identifier token `add` (not in strings/comments): rename targets
 *   hasSyntaxErrors(source)         // boolean; syntaxErrors(source) lists them (line, column, kind, text)
 *   lineText(source, 3, 5)          // exact text of lines 3..5, joined by "\n", without the last line break
 *   source.tree                     // the web-tree-sitter Tree, for anything else; source.release() frees it
 *
 * Results are computed once per ParsedSource and cached. The tree lives in WebAssembly memory: call
 * `release()` when a parsed file is no longer needed (symbols/imports already computed stay readable).
 */
import { NerionError } from '@nerion/backend-core';
import type { Tree } from 'web-tree-sitter';
import { loadGrammars, parseWith, sourceGrammarOf, sourceLanguageOf, type LoadedGrammars } from './parse.js';
import {
  extractIdentifiers,
  extractImports,
  extractNames,
  extractSymbols,
  extractSyntaxProblems,
  type SourceImport,
  type SourceSpan,
  type SourceSymbol,
  type SyntaxProblem,
} from './symbols.js';
import type { SourceGrammar, SourceLanguage } from './parse.js';

export { sourceGrammarOf, sourceLanguageOf, type SourceGrammar, type SourceLanguage } from './parse.js';
export type { ImportedName, SourceImport, SourceSpan, SourceSymbol, SymbolKind, SyntaxProblem } from './symbols.js';

export class ParsedSource {
  private treeValue: Tree | undefined;
  private symbolsValue: SourceSymbol[] | undefined;
  private importsValue: SourceImport[] | undefined;
  private problemsValue: SyntaxProblem[] | undefined;
  private namesValue: Set<string> | undefined;
  private linesValue: string[] | undefined;

  constructor(
    readonly path: string,
    readonly language: SourceLanguage,
    readonly grammar: SourceGrammar,
    readonly text: string,
    tree: Tree,
  ) {
    this.treeValue = tree;
  }

  /** The syntax tree; throws after `release()`. */
  get tree(): Tree {
    if (!this.treeValue)
      throw new NerionError('INTERNAL', `The syntax tree of ${this.path} was released; parse the file again.`);
    return this.treeValue;
  }

  get lines(): string[] {
    this.linesValue ??= this.text.split('\n').map((line) => line.replace(/\r$/u, ''));
    return this.linesValue;
  }

  /** @internal */ get symbols(): SourceSymbol[] {
    this.symbolsValue ??= extractSymbols(this.tree, this.language);
    return this.symbolsValue;
  }

  /** @internal */ get imports(): SourceImport[] {
    this.importsValue ??= extractImports(this.tree, this.language);
    return this.importsValue;
  }

  /** @internal */ get problems(): SyntaxProblem[] {
    this.problemsValue ??= extractSyntaxProblems(this.tree);
    return this.problemsValue;
  }

  /** @internal */ get names(): Set<string> {
    this.namesValue ??= extractNames(this.tree, this.language);
    return this.namesValue;
  }

  /** Computes what is cheap to keep (symbols, imports, errors, names), then frees the tree. */
  release(): void {
    if (!this.treeValue) return;
    void this.symbols;
    void this.imports;
    void this.problems;
    void this.names;
    this.treeValue.delete();
    this.treeValue = undefined;
  }
}

export interface SourceParser {
  /** Parses `text` as the language of `path`'s extension; undefined when nerion has no grammar for it. */
  parse(path: string, text: string): ParsedSource | undefined;
}

/** Loads the parsers (once per process; later calls are instant) and returns a synchronous parser. */
export async function loadSourceParser(): Promise<SourceParser> {
  const grammars: LoadedGrammars = await loadGrammars();
  return {
    parse(path, text) {
      const grammar = sourceGrammarOf(path);
      const language = sourceLanguageOf(path);
      if (grammar === undefined || language === undefined) return undefined;
      return new ParsedSource(path, language, grammar, text, parseWith(grammars, grammar, text));
    },
  };
}

/** Parses one file. Throws INVALID_REQUEST for a file that is not Python, TypeScript or JavaScript. */
export async function parseSource(path: string, text: string): Promise<ParsedSource> {
  const parsed = (await loadSourceParser()).parse(path, text);
  if (!parsed)
    throw new NerionError(
      'INVALID_REQUEST',
      `nerion parses Python (.py, .pyi), TypeScript (.ts, .tsx, .mts, .cts) and JavaScript (.js, .jsx, .mjs, .cjs) files; "${path}" is none of them.`,
      { data: { path } },
    );
  return parsed;
}

export function findSymbols(source: ParsedSource): SourceSymbol[] {
  return source.symbols;
}

/** The symbol named `name` (`add`) or qualified `Class.method`; a plain name prefers top-level symbols. */
export function findSymbol(source: ParsedSource, name: string): SourceSymbol | undefined {
  const symbols = source.symbols;
  if (name.includes('.')) return symbols.find((item) => item.qualifiedName === name);
  return (
    symbols.find((item) => item.name === name && item.className === undefined) ??
    symbols.find((item) => item.name === name)
  );
}

export function findImports(source: ParsedSource): SourceImport[] {
  return source.imports;
}

export function findIdentifiers(source: ParsedSource, name: string): SourceSpan[] {
  return extractIdentifiers(source.tree, source.language, name);
}

/** Whether any identifier token in the file is `name` (works after `release()`). */
export function mentionsName(source: ParsedSource, name: string): boolean {
  return source.names.has(name);
}

export function hasSyntaxErrors(source: ParsedSource): boolean {
  return source.problems.length > 0;
}

export function syntaxErrors(source: ParsedSource): SyntaxProblem[] {
  return source.problems;
}

/** The exact text of lines `start..end` (1-based, inclusive), joined by "\n", without the last line break. */
export function lineText(source: Pick<ParsedSource, 'lines'>, start: number, end: number): string {
  return source.lines.slice(start - 1, end).join('\n');
}

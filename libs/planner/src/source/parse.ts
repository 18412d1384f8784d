/**
 * Loading tree-sitter (web-tree-sitter 0.25, WebAssembly) and the grammars shipped by @vscode/tree-sitter-wasm
 * (Python, TypeScript, TSX, JavaScript: built with the same tree-sitter 0.25 CLI, so the ABI matches).
 * Both load lazily, once per process, on the first `loadSourceParser()`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NerionError } from '@nerion/backend-core';
import type { Language as TsLanguage, Parser as TsParser, Tree } from 'web-tree-sitter';

export type SourceLanguage = 'python' | 'typescript' | 'javascript';
/** The grammar a file is parsed with: `.tsx` files need the TSX grammar, `.jsx` the JavaScript one (it has JSX). */
export type SourceGrammar = 'python' | 'typescript' | 'tsx' | 'javascript';

const GRAMMARS: readonly SourceGrammar[] = ['python', 'typescript', 'tsx', 'javascript'];

/** The language of a path by its extension (`.py .pyi`, `.ts .tsx .mts .cts`, `.js .jsx .mjs .cjs`), else undefined. */
export function sourceLanguageOf(path: string): SourceLanguage | undefined {
  const grammar = sourceGrammarOf(path);
  if (grammar === undefined) return undefined;
  return grammar === 'tsx' ? 'typescript' : grammar;
}

export function sourceGrammarOf(path: string): SourceGrammar | undefined {
  const extension = /\.([A-Za-z0-9]+)$/u.exec(path)?.[1]?.toLowerCase();
  switch (extension) {
    case 'py':
    case 'pyi':
      return 'python';
    case 'ts':
    case 'mts':
    case 'cts':
      return 'typescript';
    case 'tsx':
      return 'tsx';
    case 'js':
    case 'jsx':
    case 'mjs':
    case 'cjs':
      return 'javascript';
    default:
      return undefined;
  }
}

export interface LoadedGrammars {
  Parser: typeof TsParser;
  languages: Record<SourceGrammar, TsLanguage>;
}

let loading: Promise<LoadedGrammars> | undefined;

/** Loads the tree-sitter runtime and the four grammars once; later calls share the same promise. */
export function loadGrammars(): Promise<LoadedGrammars> {
  loading ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      const treeSitter = await import('web-tree-sitter');
      const runtimeWasm = readFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'));
      await treeSitter.Parser.init({ wasmBinary: runtimeWasm });
      const loaded = await Promise.all(
        GRAMMARS.map((grammar) =>
          treeSitter.Language.load(
            readFileSync(require.resolve(`@vscode/tree-sitter-wasm/wasm/tree-sitter-${grammar}.wasm`)),
          ),
        ),
      );
      const languages = Object.fromEntries(GRAMMARS.map((grammar, index) => [grammar, loaded[index]])) as Record<
        SourceGrammar,
        TsLanguage
      >;
      return { Parser: treeSitter.Parser, languages };
    } catch (error) {
      loading = undefined;
      throw new NerionError(
        'NOT_AVAILABLE',
        `The source parsers (web-tree-sitter and @vscode/tree-sitter-wasm) could not be loaded (${(error as Error).message}); reinstall nerion's dependencies (npm ci).`,
        { cause: error, fix: { command: ['npm', 'ci'] } },
      );
    }
  })();
  return loading;
}

/** Parses `text` with `grammar`; the caller owns the tree (call `tree.delete()` when done with it). */
export function parseWith(grammars: LoadedGrammars, grammar: SourceGrammar, text: string): Tree {
  const parser = new grammars.Parser();
  try {
    parser.setLanguage(grammars.languages[grammar]);
    const tree = parser.parse(text);
    if (!tree) throw new NerionError('INTERNAL', `tree-sitter returned no tree for a ${grammar} source.`);
    return tree;
  } finally {
    parser.delete();
  }
}

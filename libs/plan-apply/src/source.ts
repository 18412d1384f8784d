/**
 * The parsers the applier edits with: tree-sitter (web-tree-sitter, WebAssembly) with the Python, TypeScript,
 * TSX and JavaScript grammars. Loaded once per process, on the first apply.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NerionError } from '@nerion/backend-core';
import type { PlanLanguage } from '@nerion/planner';
import type { Language as TsLanguage, Node, Parser as TsParser, Tree } from 'web-tree-sitter';

export type { Node, Tree } from 'web-tree-sitter';

/** The grammar a file is parsed with: `.tsx` needs the TSX grammar; `.js`/`.jsx` use JavaScript's (it has JSX). */
export type SourceGrammar = 'python' | 'typescript' | 'tsx' | 'javascript';

const GRAMMARS: readonly SourceGrammar[] = ['python', 'typescript', 'tsx', 'javascript'];

/** The grammar for a path, by extension; else by the plan's `language`; undefined for other files. */
export function grammarFor(path: string, language?: PlanLanguage): SourceGrammar | undefined {
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
      return language;
  }
}

export interface Parsers {
  /** Parses `text`; the caller deletes the tree (`tree.delete()`) when done. */
  parse(grammar: SourceGrammar, text: string): Tree;
}

let loading: Promise<Parsers> | undefined;

/** Loads the tree-sitter runtime and the four grammars once; later calls share the same promise. */
export function loadParsers(): Promise<Parsers> {
  loading ??= (async (): Promise<Parsers> => {
    try {
      const require = createRequire(import.meta.url);
      const treeSitter = await import('web-tree-sitter');
      const runtimeWasm = readFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'));
      await treeSitter.Parser.init({ wasmBinary: runtimeWasm } as unknown as object);
      const loaded = await Promise.all(
        GRAMMARS.map((grammar) =>
          treeSitter.Language.load(
            readFileSync(require.resolve(`@vscode/tree-sitter-wasm/wasm/tree-sitter-${grammar}.wasm`)),
          ),
        ),
      );
      const languages = Object.fromEntries(GRAMMARS.map((grammar, index) => [grammar, loaded[index]!])) as Record<
        SourceGrammar,
        TsLanguage
      >;
      const parsers = new Map<SourceGrammar, TsParser>();
      return {
        parse(grammar, text) {
          let parser = parsers.get(grammar);
          if (parser === undefined) {
            parser = new treeSitter.Parser();
            parser.setLanguage(languages[grammar]);
            parsers.set(grammar, parser);
          }
          const tree = parser.parse(text);
          if (!tree) throw new NerionError('INTERNAL', `tree-sitter returned no tree for a ${grammar} source.`);
          return tree;
        },
      };
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

/** Named children without the nulls web-tree-sitter's typings allow. */
export function kids(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

/** All children (named and anonymous). */
export function allKids(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

/** The first syntax error of a tree, as a 1-based line and column, or undefined when it parsed cleanly. */
export function firstSyntaxError(tree: Tree): { line: number; column: number } | undefined {
  if (!tree.rootNode.hasError) return undefined;
  const visit = (node: Node): Node | undefined => {
    if (node.type === 'ERROR' || node.isMissing) return node;
    for (const child of allKids(node)) {
      if (child.hasError || child.isMissing || child.type === 'ERROR') {
        const found = visit(child);
        if (found) return found;
      }
    }
    return undefined;
  };
  const node = visit(tree.rootNode) ?? tree.rootNode;
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

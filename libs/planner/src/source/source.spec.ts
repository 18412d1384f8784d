import { describe, expect, it } from '@jest/globals';
import {
  findIdentifiers,
  findImports,
  findSymbol,
  findSymbols,
  hasSyntaxErrors,
  lineText,
  loadSourceParser,
  mentionsName,
  parseSource,
  sourceLanguageOf,
  syntaxErrors,
} from './index.js';

const PYTHON = `"""Calculator."""
import os, sys as system
from typing import List, Optional as Opt
from . import helpers


# Adds two numbers.
def add(a, b):
    """Return a + b."""
    return a + b


@decorator
def sub(a, b):
    return a - b  # add is not called here


class Calc(Base):
    """A calculator."""

    def mul(self, a, b):
        return a * b

    async def fetch(self):
        pass


TOTAL = add(1, 2)
`;

const TYPESCRIPT = `import { a, b as bee } from './text.js';
import type { User } from "./types";
import * as path from 'node:path';
import def from 'def';
import 'side-effect';

/**
 * Slugifies text.
 */
export function slugify(text: string): string {
  return text;
}

export const shout = (s: string) => s.toUpperCase();
const a1 = 1, a2 = 2;

export default class Store<T> {
  private items: T[] = [];
  save(item: T): void {}
}

interface Point { x: number }
export type Id = string;
enum Color { Red }
function helper() {}
export { helper };
`;

describe('source parsing (tree-sitter, real grammars)', () => {
  it('knows the languages by extension', () => {
    expect(sourceLanguageOf('a/b.py')).toBe('python');
    expect(sourceLanguageOf('a/b.tsx')).toBe('typescript');
    expect(sourceLanguageOf('a/b.mjs')).toBe('javascript');
    expect(sourceLanguageOf('a/b.rs')).toBeUndefined();
  });

  it('finds Python symbols with their line ranges, decorators, comments and docstrings', async () => {
    const source = await parseSource('app/calc.py', PYTHON);
    const names = findSymbols(source).map((symbol) => `${symbol.kind}:${symbol.qualifiedName}`);
    expect(names).toEqual([
      'function:add',
      'function:sub',
      'class:Calc',
      'method:Calc.mul',
      'method:Calc.fetch',
      'variable:TOTAL',
    ]);
    const add = findSymbol(source, 'add')!;
    expect([add.commentStartLine, add.startLine, add.endLine, add.docstring]).toEqual([7, 8, 10, 'Return a + b.']);
    expect(lineText(source, add.startLine, add.endLine)).toBe(
      'def add(a, b):\n    """Return a + b."""\n    return a + b',
    );
    const sub = findSymbol(source, 'sub')!;
    expect([sub.startLine, sub.endLine]).toEqual([13, 15]);
    const mul = findSymbol(source, 'Calc.mul')!;
    expect([mul.startLine, mul.endLine, mul.className]).toEqual([21, 22, 'Calc']);
    expect(findSymbol(source, 'Calc')!.docstring).toBe('A calculator.');
    expect(findSymbol(source, 'missing')).toBeUndefined();
  });

  it('finds Python imports, one record per module of `import a, b`', async () => {
    const source = await parseSource('app/calc.py', PYTHON);
    const imports = findImports(source);
    expect(
      imports.map((item) => [item.style, item.module, item.names, item.alias, item.statementModules, item.startLine]),
    ).toEqual([
      ['import', 'os', [], undefined, 2, 2],
      ['import', 'sys', [], 'system', 2, 2],
      ['from', 'typing', [{ name: 'List' }, { name: 'Optional', alias: 'Opt' }], undefined, 1, 3],
      ['from', '.', [{ name: 'helpers' }], undefined, 1, 4],
    ]);
    expect(imports[2]!.text).toBe('from typing import List, Optional as Opt');
  });

  it('finds identifiers, never inside strings or comments', async () => {
    const source = await parseSource('app/calc.py', PYTHON);
    const lines = findIdentifiers(source, 'add').map((span) => span.startLine);
    expect(lines).toEqual([8, 28]);
    expect(mentionsName(source, 'TOTAL')).toBe(true);
    expect(mentionsName(source, 'nothing')).toBe(false);
  });

  it('finds TypeScript symbols, exports and imports', async () => {
    const source = await parseSource('src/index.ts', TYPESCRIPT);
    const symbols = findSymbols(source).map(
      (symbol) =>
        `${symbol.kind}:${symbol.qualifiedName}${symbol.exported ? ':exported' : ''}${symbol.exportDefault ? ':default' : ''}`,
    );
    expect(symbols).toEqual([
      'function:slugify:exported',
      'function:shout:exported',
      'variable:a1',
      'variable:a2',
      'class:Store:exported:default',
      'variable:Store.items',
      'method:Store.save',
      'interface:Point',
      'type_alias:Id:exported',
      'enum:Color',
      'function:helper:exported',
    ]);
    const slugify = findSymbol(source, 'slugify')!;
    expect([slugify.commentStartLine, slugify.startLine, slugify.endLine, slugify.docstring]).toEqual([
      7,
      10,
      12,
      'Slugifies text.',
    ]);
    const imports = findImports(source);
    expect(imports.map((item) => [item.module, item.names, item.defaultName, item.namespace, item.typeOnly])).toEqual([
      ['./text.js', [{ name: 'a' }, { name: 'b', alias: 'bee' }], undefined, undefined, undefined],
      ['./types', [{ name: 'User' }], undefined, undefined, true],
      ['node:path', [], undefined, 'path', undefined],
      ['def', [], 'def', undefined, undefined],
      ['side-effect', [], undefined, undefined, undefined],
    ]);
  });

  it('lists re-exports as style "reexport" (they refer to the module but bind nothing)', async () => {
    const source = await parseSource('src/index.ts', "export { a, b as c } from './a.js';\nexport * from './b.js';\n");
    expect(findImports(source).map((item) => [item.style, item.module, item.names, item.wildcard])).toEqual([
      ['reexport', './a.js', [{ name: 'a' }, { name: 'b', alias: 'c' }], undefined],
      ['reexport', './b.js', [], true],
    ]);
  });

  it('parses TSX and JavaScript with their own grammars', async () => {
    const parser = await loadSourceParser();
    const tsx = parser.parse('src/App.tsx', 'export function App() { return <div className="a">hi</div>; }\n')!;
    expect(hasSyntaxErrors(tsx)).toBe(false);
    expect(findSymbol(tsx, 'App')?.exported).toBe(true);
    const js = parser.parse('lib/a.mjs', 'export class A { m() {} }\nconst { x } = require("y");\n')!;
    expect(findSymbols(js).map((symbol) => symbol.qualifiedName)).toEqual(['A', 'A.m']);
    expect(parser.parse('README.md', '# hi')).toBeUndefined();
  });

  it('reports syntax errors with their lines', async () => {
    const good = await parseSource('a.py', 'def f():\n    return 1\n');
    expect(hasSyntaxErrors(good)).toBe(false);
    const bad = await parseSource('a.py', 'def f(:\n    return 1\n');
    expect(hasSyntaxErrors(bad)).toBe(true);
    expect(syntaxErrors(bad)[0]!.line).toBe(1);
    const badTs = await parseSource('a.ts', 'export function f( {\n');
    expect(hasSyntaxErrors(badTs)).toBe(true);
  });

  it('keeps symbols and imports readable after release()', async () => {
    const source = await parseSource('app/calc.py', PYTHON);
    source.release();
    expect(findSymbol(source, 'Calc.fetch')?.kind).toBe('method');
    expect(findImports(source)).toHaveLength(4);
    expect(() => source.tree).toThrow(/released/u);
  });

  it('refuses a file it has no grammar for', async () => {
    await expect(parseSource('main.rs', 'fn main() {}')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { applyPlan } from '../src/index.js';
import { makePlan, tempRepo, type TempRepo } from './helpers.js';

const CALC = `import { readFileSync } from 'node:fs';
import path from 'node:path';

export function add(a: number, b: number): number {
  return a + b;
}

export class Calc {
  mul(a: number, b: number): number {
    return a * b;
  }

  square(a: number): number {
    return this.mul(a, a);
  }
}

const helper = (x: number) => x * 2;

export const VERSION = '1';
`;

const INDEX = `import { add, Calc } from './calc.js';
import * as calc from './calc';

console.log(add(1, 2), calc.add(3, 4), new Calc());
`;

let repo: TempRepo;
afterEach(() => repo?.remove());

function setup(extra: Record<string, string> = {}): TempRepo {
  repo = tempRepo({ 'src/calc.ts': CALC, 'src/index.ts': INDEX, ...extra });
  return repo;
}

const apply = (plan: ReturnType<typeof makePlan>) => applyPlan(plan, { root: repo.root });

describe('apply: every action kind on real TypeScript and JavaScript files', () => {
  it('create_file and append_to_file', async () => {
    setup();
    await apply(
      makePlan([
        { kind: 'create_file', payload: { path: 'src/new.ts', content: 'export const x = 1;\n' } },
        { kind: 'append_to_file', payload: { path: 'src/new.ts', content: 'export const y = 2;' } },
      ]),
    );
    expect(repo.read('src/new.ts')).toBe('export const x = 1;\nexport const y = 2;\n');
  });

  it('insert_function at the end, after a symbol, and as a method before the closing brace', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'insert_function',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            name: 'sub',
            code: 'export function sub(a: number, b: number): number {\n  return a - b;\n}\n',
            after_symbol: 'add',
          },
        },
        {
          kind: 'insert_function',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            name: 'cube',
            class_name: 'Calc',
            code: 'cube(a: number): number {\n  return a * this.square(a);\n}',
          },
        },
        {
          kind: 'insert_function',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            name: 'neg',
            code: 'export function neg(a: number): number {\n  return -a;\n}',
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(
      CALC.replace(
        '  return a + b;\n}\n',
        '  return a + b;\n}\n\nexport function sub(a: number, b: number): number {\n  return a - b;\n}\n',
      )
        .replace(
          '    return this.mul(a, a);\n  }\n',
          '    return this.mul(a, a);\n  }\n\n  cube(a: number): number {\n    return a * this.square(a);\n  }\n',
        )
        .concat('\nexport function neg(a: number): number {\n  return -a;\n}\n'),
    );
  });

  it('insert_class, insert_interface and insert_type_alias; a duplicate name is refused', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'insert_class',
          payload: { path: 'src/calc.ts', language: 'typescript', name: 'Repo', code: 'export class Repo {}' },
        },
        {
          kind: 'insert_interface',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            name: 'User',
            code: 'export interface User {\n  id: string;\n}',
          },
        },
        {
          kind: 'insert_type_alias',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            name: 'UserId',
            code: 'export type UserId = string;',
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(
      `${CALC}\nexport class Repo {}\n\nexport interface User {\n  id: string;\n}\n\nexport type UserId = string;\n`,
    );
    await expect(
      apply(
        makePlan([
          {
            kind: 'insert_interface',
            payload: { path: 'src/calc.ts', language: 'typescript', name: 'User', code: 'interface User {}' },
          },
        ]),
      ),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('insert_function into an empty class opens its braces', async () => {
    setup({ 'src/empty.js': 'class Box {}\n' });
    await apply(
      makePlan([
        {
          kind: 'insert_function',
          payload: {
            path: 'src/empty.js',
            language: 'javascript',
            name: 'open',
            class_name: 'Box',
            code: 'open() {\n  return 1;\n}',
          },
        },
      ]),
    );
    expect(repo.read('src/empty.js')).toBe('class Box {\n  open() {\n    return 1;\n  }\n}\n');
  });

  it('insert_import after the last import, skipped when already imported', async () => {
    setup();
    const result = await apply(
      makePlan([
        {
          kind: 'insert_import',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            module: 'node:os',
            names: ['tmpdir'],
            statement: "import { tmpdir } from 'node:os';",
          },
        },
        {
          kind: 'insert_import',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            module: 'node:path',
            default_name: 'path',
            statement: "import path from 'node:path';",
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(
      CALC.replace(
        "import path from 'node:path';\n",
        "import path from 'node:path';\nimport { tmpdir } from 'node:os';\n",
      ),
    );
    expect(result.actions.map((action) => action.outcome)).toEqual(['applied', 'unchanged']);
  });

  it('replace_node keeps `export` unless the new code brings it; replaces an arrow-function const', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'replace_node',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            node_kind: 'function',
            name: 'add',
            code: 'function add(a: number, b: number): number {\n  return b + a;\n}',
          },
        },
        {
          kind: 'replace_node',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            node_kind: 'method',
            name: 'mul',
            class_name: 'Calc',
            code: 'mul(a: number, b: number): number {\n  return b * a;\n}',
          },
        },
        {
          kind: 'replace_node',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            node_kind: 'variable',
            name: 'helper',
            code: 'const helper = (x: number) => x * 3;',
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(
      CALC.replace('return a + b', 'return b + a').replace('return a * b', 'return b * a').replace('x * 2', 'x * 3'),
    );
  });

  it('rename_symbol across the repository: named imports, namespace imports, re-exports; not strings or properties', async () => {
    setup({
      'src/barrel.ts': "export { add } from './calc.js';\n",
      'src/other.ts': "import { add } from './elsewhere';\nconst o = { add: 1 };\nconsole.log(add(1), o.add, 'add');\n",
      'src/alias.js': "import { add as plusOne } from './calc.js';\nplusOne(1, 1);\n",
    });
    await apply(
      makePlan([
        {
          kind: 'rename_symbol',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            old_name: 'add',
            new_name: 'sum',
            scope: 'repository',
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(CALC.replace('function add(', 'function sum('));
    expect(repo.read('src/index.ts')).toBe(
      INDEX.replace('{ add, Calc }', '{ sum, Calc }').replace('add(1, 2)', 'sum(1, 2)').replace('calc.add', 'calc.sum'),
    );
    expect(repo.read('src/barrel.ts')).toBe("export { sum as add } from './calc.js';\n");
    expect(repo.read('src/other.ts')).toBe(
      "import { add } from './elsewhere';\nconst o = { add: 1 };\nconsole.log(add(1), o.add, 'add');\n",
    );
    expect(repo.read('src/alias.js')).toBe("import { sum as plusOne } from './calc.js';\nplusOne(1, 1);\n");
  });

  it('rename_symbol (file scope) keeps object keys of shorthand properties', async () => {
    setup({ 'src/short.ts': 'const count = 1;\nexport const data = { count };\nconsole.log(count);\n' });
    await apply(
      makePlan([
        {
          kind: 'rename_symbol',
          payload: {
            path: 'src/short.ts',
            language: 'typescript',
            old_name: 'count',
            new_name: 'total',
            scope: 'file',
          },
        },
      ]),
    );
    expect(repo.read('src/short.ts')).toBe(
      'const total = 1;\nexport const data = { count: total };\nconsole.log(total);\n',
    );
  });

  it('delete_lines with expected_text', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'delete_lines',
          payload: {
            path: 'src/calc.ts',
            start_line: 1,
            end_line: 1,
            expected_text: "import { readFileSync } from 'node:fs';",
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(CALC.replace("import { readFileSync } from 'node:fs';\n", ''));
  });

  it('ensure_test adds a missing jest test and recognises an existing one by name', async () => {
    setup({
      'src/calc.test.ts': "import { add } from './calc';\n\ntest('adds', () => {\n  expect(add(1, 2)).toBe(3);\n});\n",
    });
    const result = await apply(
      makePlan([
        {
          kind: 'ensure_test',
          payload: {
            path: 'src/calc.ts',
            test_path: 'src/calc.test.ts',
            language: 'typescript',
            framework: 'jest',
            test_name: 'adds',
            code: "test('adds', () => {});\n",
          },
        },
        {
          kind: 'ensure_test',
          payload: {
            path: 'src/calc.ts',
            test_path: 'src/calc.test.ts',
            language: 'typescript',
            framework: 'jest',
            test_name: 'multiplies',
            code: "import { Calc } from './calc';\n\ntest('multiplies', () => {\n  expect(new Calc().mul(2, 3)).toBe(6);\n});\n",
          },
        },
      ]),
    );
    expect(repo.read('src/calc.test.ts')).toBe(
      "import { add } from './calc';\nimport { Calc } from './calc';\n\ntest('adds', () => {\n  expect(add(1, 2)).toBe(3);\n});\n\ntest('multiplies', () => {\n  expect(new Calc().mul(2, 3)).toBe(6);\n});\n",
    );
    expect(result.actions.map((action) => action.outcome)).toEqual(['unchanged', 'applied']);
  });

  it('add_module_docstring and add_function_docstring write JSDoc comments', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'add_module_docstring',
          payload: { path: 'src/calc.ts', language: 'typescript', docstring: 'Arithmetic.' },
        },
        {
          kind: 'add_function_docstring',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            function_name: 'add',
            docstring: 'Adds.\n\nTwo numbers.',
          },
        },
        {
          kind: 'add_function_docstring',
          payload: {
            path: 'src/calc.ts',
            language: 'typescript',
            function_name: 'mul',
            class_name: 'Calc',
            docstring: 'Multiplies.',
          },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(
      '/** Arithmetic. */\n\n' +
        CALC.replace('export function add', '/**\n * Adds.\n *\n * Two numbers.\n */\nexport function add').replace(
          '  mul(a',
          '  /** Multiplies. */\n  mul(a',
        ),
    );
  });

  it('apply_unified_diff creates a new file from /dev/null', async () => {
    setup();
    const diff = '--- /dev/null\n+++ b/src/made.ts\n@@ -0,0 +1,1 @@\n+export const made = true;\n';
    await apply(makePlan([{ kind: 'apply_unified_diff', payload: { path: 'src/made.ts', diff } }]));
    expect(repo.read('src/made.ts')).toBe('export const made = true;\n');
  });

  it('update_import changes the module, adds and removes names', async () => {
    setup({
      'src/imp.ts':
        "import { a, b } from './text';\nimport def, { c } from 'lib';\nimport 'side';\n\nconsole.log(a, def);\n",
    });
    await apply(
      makePlan([
        {
          kind: 'update_import',
          payload: { path: 'src/imp.ts', language: 'typescript', module: './text', new_module: './text.js' },
        },
        {
          kind: 'update_import',
          payload: {
            path: 'src/imp.ts',
            language: 'typescript',
            module: './text.js',
            remove_names: ['b'],
            add_names: ['d'],
          },
        },
        {
          kind: 'update_import',
          payload: { path: 'src/imp.ts', language: 'typescript', module: 'lib', remove_names: ['c'] },
        },
        {
          kind: 'update_import',
          payload: { path: 'src/imp.ts', language: 'typescript', module: 'side', add_names: ['e'] },
        },
      ]),
    );
    expect(repo.read('src/imp.ts')).toBe(
      "import { a, d } from './text.js';\nimport def from 'lib';\nimport { e } from 'side';\n\nconsole.log(a, def);\n",
    );
  });

  it('export_default and export_named (declarations get `export`; re-exports from a module)', async () => {
    setup();
    await apply(
      makePlan([
        { kind: 'export_named', payload: { path: 'src/calc.ts', language: 'typescript', names: ['helper', 'add'] } },
        { kind: 'export_default', payload: { path: 'src/calc.ts', language: 'typescript', name: 'Calc' } },
        {
          kind: 'export_named',
          payload: { path: 'src/index.ts', language: 'typescript', names: ['VERSION'], from: './calc.js' },
        },
      ]),
    );
    expect(repo.read('src/calc.ts')).toBe(
      CALC.replace('const helper', 'export const helper') + '\nexport default Calc;\n',
    );
    expect(repo.read('src/index.ts')).toBe(`${INDEX}\nexport { VERSION } from "./calc.js";\n`);
    await expect(
      apply(
        makePlan([{ kind: 'export_default', payload: { path: 'src/calc.ts', language: 'typescript', name: 'add' } }]),
      ),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('already has a default export'),
    });
  });

  it('insert_import into a script with a shebang and no imports goes below the shebang', async () => {
    setup({ 'bin/tool.js': "#!/usr/bin/env node\nconsole.log('hi');\n" });
    await apply(
      makePlan([
        {
          kind: 'insert_import',
          payload: {
            path: 'bin/tool.js',
            language: 'javascript',
            module: 'node:fs',
            names: ['readFileSync'],
            statement: "import { readFileSync } from 'node:fs';",
          },
        },
      ]),
    );
    expect(repo.read('bin/tool.js')).toBe(
      "#!/usr/bin/env node\n\nimport { readFileSync } from 'node:fs';\n\nconsole.log('hi');\n",
    );
  });
});

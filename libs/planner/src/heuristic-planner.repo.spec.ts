import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { planHeuristically } from './heuristic-planner.js';
import { openRepository } from './repository.js';
import { checkPlan } from './plan-validation.js';

const roots: string[] = [];
async function repo(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'nerion-plan-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return openRepository({ root });
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const CALC = 'import os\nimport sys\n\n\ndef add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';

describe('the heuristic planner with a repository', () => {
  it('never turns remove, delete or rename into an insert — with or without the repository', async () => {
    const view = await repo({ 'app/calc.py': CALC });
    const destructive = [
      'remove unused import os',
      'remove the import of sys from app/calc.py',
      'delete the function sub',
      'remove the import of requests',
      'delete the class Nope',
      'rename nope to yes',
      'remove the docstring from add',
      'delete everything',
      'drop it',
      'get rid of the logging',
    ];
    for (const instruction of destructive) {
      for (const repository of [view, undefined]) {
        const plan = planHeuristically({ instruction, targetFile: 'app/calc.py' }, repository);
        expect(checkPlan(plan).success).toBe(true);
        const inserts = plan.actions.filter((action) => /^insert_|^create_file$|^ensure_test$/u.test(action.kind));
        expect({ instruction, inserts }).toEqual({ instruction, inserts: [] });
        if (plan.actions.some((action) => action.kind === 'append_to_file'))
          expect({ instruction, asks: plan.metadata.clarification_needed }).toEqual({ instruction, asks: true });
      }
    }
  });

  it('turns "remove unused import os" into the exact delete_lines (the issue’s first example)', async () => {
    const plan = planHeuristically(
      { instruction: 'remove unused import os', targetFile: 'app/calc.py' },
      await repo({ 'app/calc.py': CALC }),
    );
    expect(plan.actions).toEqual([
      {
        kind: 'delete_lines',
        payload: { path: 'app/calc.py', start_line: 1, end_line: 1, expected_text: 'import os' },
      },
    ]);
    expect(plan.preconditions).toEqual([{ kind: 'file_exists', path: 'app/calc.py' }]);
  });

  it('asks instead of removing an import that is still used', async () => {
    const plan = planHeuristically(
      { instruction: 'remove unused import os', targetFile: 'app/calc.py' },
      await repo({ 'app/calc.py': 'import os\n\nprint(os.getcwd())\n' }),
    );
    expect(plan.metadata.clarification_needed).toBe(true);
    expect(plan.metadata.questions?.[0]).toMatch(/os is still used in app\/calc\.py/u);
  });

  it('asks instead of editing a file that does not parse', async () => {
    const view = await repo({ 'app/calc.py': 'import os\n\ndef broken(:\n    pass\n' });
    const plan = planHeuristically({ instruction: 'remove unused import os', targetFile: 'app/calc.py' }, view);
    expect(plan.metadata.clarification_needed).toBe(true);
    expect(plan.metadata.questions?.[0]).toMatch(/app\/calc\.py has a syntax error on line 3/u);
  });

  it('makes a rename repository-wide when another file imports the symbol, and file-wide otherwise', async () => {
    const view = await repo({ 'app/calc.py': CALC, 'app/main.py': 'from app.calc import add\n\nprint(add(1, 2))\n' });
    const add = planHeuristically({ instruction: 'rename add to plus in app/calc.py' }, view);
    expect(add.actions[0]!.payload).toMatchObject({ old_name: 'add', new_name: 'plus', scope: 'repository' });
    expect(add.metadata.notes?.join(' ')).toContain('app/main.py');
    expect(add.preconditions).toContainEqual({ kind: 'symbol_exists', path: 'app/calc.py', symbol: 'add' });
    const sub = planHeuristically({ instruction: 'rename sub to minus in app/calc.py' }, view);
    expect(sub.actions[0]!.payload).toMatchObject({ scope: 'file' });
  });

  it('sees relative TypeScript imports with or without an extension', async () => {
    const view = await repo({
      'src/text.ts': 'export function slug(s: string) { return s; }\n',
      'src/deep/use.ts': "import { slug } from '../text.js';\nslug('a');\n",
    });
    const plan = planHeuristically({ instruction: 'rename slug to slugify in src/text.ts' }, view);
    expect(plan.actions[0]!.payload).toMatchObject({ scope: 'repository' });
  });

  it('deletes a symbol with its comments and decorators, the blank lines tidied, and expected_text exact', async () => {
    const view = await repo({
      'm.py': 'import functools\n\n\n# Cached.\n@functools.cache\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n',
    });
    const plan = planHeuristically({ instruction: 'delete the function f', targetFile: 'm.py' }, view);
    expect(plan.actions).toEqual([
      {
        kind: 'delete_lines',
        payload: {
          path: 'm.py',
          start_line: 4,
          end_line: 9,
          expected_text: '# Cached.\n@functools.cache\ndef f():\n    return 1\n\n',
        },
      },
    ]);
    expect(plan.postconditions).toEqual([{ kind: 'symbol_absent', path: 'm.py', symbol: 'f' }]);
  });

  it('picks the target among the files an instruction names: the existing one, not the module specifier', async () => {
    const view = await repo({
      'src/index.ts': "import { a } from './text';\n",
      'src/text.ts': 'export const a = 1;\n',
    });
    const plan = planHeuristically(
      { instruction: "change the import from './text' to './text.js' in src/index.ts" },
      view,
    );
    expect(plan.target_file).toBe('src/index.ts');
    expect(plan.actions).toEqual([
      {
        kind: 'update_import',
        payload: { path: 'src/index.ts', language: 'typescript', module: './text', new_module: './text.js' },
      },
    ]);
  });

  describe('ensure_test follows the repository’s test layout', () => {
    const PY = { 'app/calc.py': 'def add(a, b):\n    return a + b\n' };
    const testOf = async (files: Record<string, string>, instruction: string) =>
      planHeuristically({ instruction }, await repo(files)).actions[0]!.payload as Record<string, string>;

    it('pytest: under tests/ when the repository has one (and by default)', async () => {
      expect(await testOf({ ...PY, 'tests/test_x.py': '' }, 'add a test for add in app/calc.py')).toMatchObject({
        test_path: 'tests/test_calc.py',
        framework: 'pytest',
      });
      expect(await testOf(PY, 'add a test for add in app/calc.py')).toMatchObject({ test_path: 'tests/test_calc.py' });
    });

    it('pytest: next to the module when the repository keeps its tests there', async () => {
      expect(await testOf({ ...PY, 'app/test_other.py': '' }, 'add a test for add in app/calc.py')).toMatchObject({
        test_path: 'app/test_calc.py',
      });
    });

    const TS = { 'src/a.ts': 'export function f() {}\n' };
    it('vitest or jest by package.json; ESM imports with .js', async () => {
      const vitest = await testOf(
        { ...TS, 'package.json': '{"type":"module","devDependencies":{"vitest":"3.2.4"}}' },
        'add a test for f in src/a.ts',
      );
      expect(vitest).toMatchObject({ test_path: 'src/a.test.ts', framework: 'vitest' });
      expect(vitest.code).toBe(
        "import { expect, test } from 'vitest';\nimport { f } from './a.js';\n\ntest('f is defined', () => {\n  expect(f).toBeDefined();\n});\n",
      );
      const jest = await testOf(
        { ...TS, 'package.json': '{"devDependencies":{"jest":"30.0.0"}}', 'test/x.test.ts': '' },
        'add a test for f in src/a.ts',
      );
      expect(jest).toMatchObject({ test_path: 'test/a.test.ts', framework: 'jest' });
      expect(jest.code).toContain("import { f } from '../src/a';");
    });

    it('node:test when the test script runs node --test', async () => {
      const node = await testOf(
        { ...TS, 'package.json': '{"type":"module","scripts":{"test":"node --test"}}' },
        'add a test for f in src/a.ts',
      );
      expect(node).toMatchObject({ framework: 'node:test' });
      expect(node.code).toContain("import { test } from 'node:test';");
    });
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { applyPlan } from '../src/index.js';
import { makePlan, tempRepo, type TempRepo } from './helpers.js';

const CALC = `"""Calculator."""
import os
import sys
from typing import List, Optional


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


class Calc:
    def mul(self, a, b):
        return a * b

    def square(self, a):
        return self.mul(a, a)
`;

const MAIN = `from app.calc import add
from app import calc

print(add(1, 2), calc.add(3, 4))
`;

let repo: TempRepo;
afterEach(() => repo?.remove());

function setup(extra: Record<string, string> = {}): TempRepo {
  repo = tempRepo({ 'app/__init__.py': '', 'app/calc.py': CALC, 'app/main.py': MAIN, ...extra });
  return repo;
}

const apply = (plan: ReturnType<typeof makePlan>, options: { force?: boolean; dryRun?: boolean } = {}) =>
  applyPlan(plan, { root: repo.root, ...options });

describe('apply: every action kind on real Python files', () => {
  it('create_file creates the file (and its folders); refuses an existing one without overwrite', async () => {
    setup();
    const result = await apply(
      makePlan([{ kind: 'create_file', payload: { path: 'app/util/new.py', content: 'X = 1\n', overwrite: false } }]),
    );
    expect(repo.read('app/util/new.py')).toBe('X = 1\n');
    expect(result.files).toEqual([{ path: 'app/util/new.py', status: 'created', added: 1, removed: 0 }]);
    await expect(
      apply(makePlan([{ kind: 'create_file', payload: { path: 'app/calc.py', content: 'x = 2\n' } }])),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('already exists') });
    expect(repo.read('app/calc.py')).toBe(CALC);
  });

  it('append_to_file appends on a new line', async () => {
    setup({ 'notes.txt': 'one' });
    await apply(makePlan([{ kind: 'append_to_file', payload: { path: 'notes.txt', content: 'two' } }]));
    expect(repo.read('notes.txt')).toBe('one\ntwo\n');
  });

  it('insert_function at module level, after a symbol, and as a method (indented to the class)', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'insert_function',
          payload: { path: 'app/calc.py', language: 'python', name: 'div', code: 'def div(a, b):\n    return a / b\n' },
        },
        {
          kind: 'insert_function',
          payload: {
            path: 'app/calc.py',
            language: 'python',
            name: 'neg',
            code: 'def neg(a):\n    return -a',
            after_symbol: 'add',
          },
        },
        {
          kind: 'insert_function',
          payload: {
            path: 'app/calc.py',
            language: 'python',
            name: 'cube',
            class_name: 'Calc',
            code: 'def cube(self, a):\n    return a * self.square(a)\n',
          },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(
      CALC.replace('    return a + b\n', '    return a + b\n\n\ndef neg(a):\n    return -a\n') +
        '\n    def cube(self, a):\n        return a * self.square(a)\n\n\ndef div(a, b):\n    return a / b\n',
    );
  });

  it('insert_function refuses a name the file already defines', async () => {
    setup();
    await expect(
      apply(
        makePlan([
          {
            kind: 'insert_function',
            payload: { path: 'app/calc.py', language: 'python', name: 'add', code: 'def add():\n    pass\n' },
          },
        ]),
      ),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('already defines add') });
  });

  it('insert_class appends a class with two blank lines', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'insert_class',
          payload: { path: 'app/calc.py', language: 'python', name: 'Repo', code: 'class Repo:\n    pass\n' },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(`${CALC}\n\nclass Repo:\n    pass\n`);
  });

  it('insert_import goes after the last import; an import already there is left alone', async () => {
    setup();
    const result = await apply(
      makePlan([
        {
          kind: 'insert_import',
          payload: { path: 'app/calc.py', language: 'python', module: 'logging', statement: 'import logging' },
        },
        {
          kind: 'insert_import',
          payload: {
            path: 'app/calc.py',
            language: 'python',
            module: 'typing',
            names: ['List'],
            statement: 'from typing import List',
          },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(
      CALC.replace('from typing import List, Optional\n', 'from typing import List, Optional\nimport logging\n'),
    );
    expect(result.actions.map((action) => action.outcome)).toEqual(['applied', 'unchanged']);
  });

  it('insert_import in a file with only a docstring goes below the docstring', async () => {
    setup({ 'app/doc.py': '"""Doc."""\n\nX = 1\n' });
    await apply(
      makePlan([
        {
          kind: 'insert_import',
          payload: { path: 'app/doc.py', language: 'python', module: 'os', statement: 'import os' },
        },
      ]),
    );
    expect(repo.read('app/doc.py')).toBe('"""Doc."""\nimport os\n\nX = 1\n');
  });

  it('replace_node replaces a function, and a method (re-indented), keeping decorators', async () => {
    setup({ 'app/deco.py': 'import functools\n\n\n@functools.cache\ndef f(x):\n    return x\n' });
    await apply(
      makePlan([
        {
          kind: 'replace_node',
          payload: {
            path: 'app/calc.py',
            language: 'python',
            node_kind: 'function',
            name: 'sub',
            code: 'def sub(a, b):\n    """Subtract."""\n    return a - b\n',
          },
        },
        {
          kind: 'replace_node',
          payload: {
            path: 'app/calc.py',
            language: 'python',
            node_kind: 'method',
            name: 'mul',
            class_name: 'Calc',
            code: 'def mul(self, a, b):\n    return b * a',
          },
        },
        {
          kind: 'replace_node',
          payload: {
            path: 'app/deco.py',
            language: 'python',
            node_kind: 'function',
            name: 'f',
            code: 'def f(x):\n    return 2 * x\n',
          },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(
      CALC.replace('def sub(a, b):\n', 'def sub(a, b):\n    """Subtract."""\n').replace('return a * b', 'return b * a'),
    );
    expect(repo.read('app/deco.py')).toBe('import functools\n\n\n@functools.cache\ndef f(x):\n    return 2 * x\n');
  });

  it('rename_symbol (file scope) renames definitions and uses, not strings, comments or attributes of other objects', async () => {
    setup({
      'app/r.py': 'def add(a):\n    # add things\n    return a\n\n\nx = add(1)\nmsg = "add"\nobj.add = 3\n',
    });
    await apply(
      makePlan([
        {
          kind: 'rename_symbol',
          payload: { path: 'app/r.py', language: 'python', old_name: 'add', new_name: 'plus', scope: 'file' },
        },
      ]),
    );
    expect(repo.read('app/r.py')).toBe(
      'def plus(a):\n    # add things\n    return a\n\n\nx = plus(1)\nmsg = "add"\nobj.add = 3\n',
    );
    expect(repo.read('app/calc.py')).toBe(CALC);
  });

  it('rename_symbol (repository scope) follows `from m import x`, `from pkg import m` and relative imports', async () => {
    setup({
      'app/rel.py': 'from .calc import add as adder\nfrom . import calc as c\n\nadder(1, 2)\nc.add(1, 2)\n',
      'app/other.py': 'def add(a, b):\n    return 0\n',
    });
    const result = await apply(
      makePlan([
        {
          kind: 'rename_symbol',
          payload: { path: 'app/calc.py', language: 'python', old_name: 'add', new_name: 'plus', scope: 'repository' },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(CALC.replace('def add(', 'def plus('));
    expect(repo.read('app/main.py')).toBe(
      'from app.calc import plus\nfrom app import calc\n\nprint(plus(1, 2), calc.plus(3, 4))\n',
    );
    expect(repo.read('app/rel.py')).toBe(
      'from .calc import plus as adder\nfrom . import calc as c\n\nadder(1, 2)\nc.plus(1, 2)\n',
    );
    expect(repo.read('app/other.py')).toBe('def add(a, b):\n    return 0\n');
    expect(result.files.map((file) => file.path).sort()).toEqual(['app/calc.py', 'app/main.py', 'app/rel.py']);
  });

  it('rename_symbol of a method (Class.method) renames the definition and self./Class. accesses', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'rename_symbol',
          payload: { path: 'app/calc.py', language: 'python', old_name: 'Calc.mul', new_name: 'times', scope: 'file' },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(
      CALC.replace('def mul(self', 'def times(self').replace('self.mul(a, a)', 'self.times(a, a)'),
    );
  });

  it('delete_lines deletes exactly the lines when expected_text matches, and refuses with line numbers when not', async () => {
    setup();
    await expect(
      apply(
        makePlan([
          {
            kind: 'delete_lines',
            payload: { path: 'app/calc.py', start_line: 2, end_line: 2, expected_text: 'import sys' },
          },
        ]),
      ),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining(
        'lines 2-2 of app/calc.py no longer hold the expected text (it is now at lines 3-3',
      ),
      data: expect.objectContaining({ start_line: 2, end_line: 2, found_at_line: 3 }),
    });
    expect(repo.read('app/calc.py')).toBe(CALC);
    await apply(
      makePlan([
        {
          kind: 'delete_lines',
          payload: { path: 'app/calc.py', start_line: 3, end_line: 3, expected_text: 'import sys\n' },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(CALC.replace('import sys\n', ''));
  });

  it('ensure_test creates the test file, and adds a missing test to an existing one (imports with the imports)', async () => {
    setup({ 'tests/test_calc.py': 'from app.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n' });
    const code = 'from app.calc import sub\n\n\ndef test_sub():\n    assert sub(3, 2) == 1\n';
    const result = await apply(
      makePlan([
        {
          kind: 'ensure_test',
          payload: {
            path: 'app/calc.py',
            test_path: 'tests/test_calc.py',
            language: 'python',
            framework: 'pytest',
            test_name: 'test_sub',
            code,
          },
        },
        {
          kind: 'ensure_test',
          payload: {
            path: 'app/calc.py',
            test_path: 'tests/test_calc.py',
            language: 'python',
            framework: 'pytest',
            test_name: 'test_add',
            code: 'def test_add():\n    pass\n',
          },
        },
        {
          kind: 'ensure_test',
          payload: {
            path: 'app/main.py',
            test_path: 'tests/test_main.py',
            language: 'python',
            framework: 'pytest',
            test_name: 'test_main',
            code: 'def test_main():\n    assert True\n',
          },
        },
      ]),
    );
    expect(repo.read('tests/test_calc.py')).toBe(
      'from app.calc import add\nfrom app.calc import sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_sub():\n    assert sub(3, 2) == 1\n',
    );
    expect(repo.read('tests/test_main.py')).toBe('def test_main():\n    assert True\n');
    expect(result.actions.map((action) => action.outcome)).toEqual(['applied', 'unchanged', 'applied']);
  });

  it('add_module_docstring puts it first (after a shebang); refuses a different existing one', async () => {
    setup({ 'app/run.py': '#!/usr/bin/env python3\nimport os\n' });
    await apply(
      makePlan([
        { kind: 'add_module_docstring', payload: { path: 'app/run.py', language: 'python', docstring: 'Runs "it".' } },
      ]),
    );
    expect(repo.read('app/run.py')).toBe('#!/usr/bin/env python3\n"""Runs "it"."""\n\nimport os\n');
    await expect(
      apply(
        makePlan([
          { kind: 'add_module_docstring', payload: { path: 'app/calc.py', language: 'python', docstring: 'Other.' } },
        ]),
      ),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('add_function_docstring indents the docstring into the body (functions, methods, one-line bodies)', async () => {
    setup({ 'app/one.py': 'def f(): return 1\n' });
    await apply(
      makePlan([
        {
          kind: 'add_function_docstring',
          payload: { path: 'app/calc.py', language: 'python', function_name: 'add', docstring: 'Add two numbers.' },
        },
        {
          kind: 'add_function_docstring',
          payload: {
            path: 'app/calc.py',
            language: 'python',
            function_name: 'mul',
            class_name: 'Calc',
            docstring: 'Multiply.\n\nBoth arguments are numbers.',
          },
        },
        {
          kind: 'add_function_docstring',
          payload: { path: 'app/one.py', language: 'python', function_name: 'f', docstring: 'One.' },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(
      CALC.replace('def add(a, b):\n', 'def add(a, b):\n    """Add two numbers."""\n').replace(
        '    def mul(self, a, b):\n',
        '    def mul(self, a, b):\n        """Multiply.\n\n        Both arguments are numbers.\n        """\n',
      ),
    );
    expect(repo.read('app/one.py')).toBe('def f():\n    """One."""\n    return 1\n');
  });

  it('apply_unified_diff applies a git diff; one that does not match is refused', async () => {
    setup();
    const diff = [
      '--- a/app/calc.py',
      '+++ b/app/calc.py',
      '@@ -7,2 +7,2 @@',
      ' def add(a, b):',
      '-    return a + b',
      '+    return b + a',
      '',
    ].join('\n');
    await apply(makePlan([{ kind: 'apply_unified_diff', payload: { path: 'app/calc.py', diff } }]));
    expect(repo.read('app/calc.py')).toBe(CALC.replace('return a + b', 'return b + a'));
    await expect(
      apply(makePlan([{ kind: 'apply_unified_diff', payload: { path: 'app/calc.py', diff } }])),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('does not apply') });
  });

  it('update_import removes a plain import, removes and adds names, and renames the module', async () => {
    setup({ 'app/imp.py': 'import os, sys\nfrom a.b import c, d\nfrom x import y\n\nprint(sys, c, y)\n' });
    await apply(
      makePlan([
        {
          kind: 'update_import',
          payload: { path: 'app/imp.py', language: 'python', module: 'os', remove_names: ['os'] },
        },
        {
          kind: 'update_import',
          payload: { path: 'app/imp.py', language: 'python', module: 'a.b', remove_names: ['d'], add_names: ['e'] },
        },
        { kind: 'update_import', payload: { path: 'app/imp.py', language: 'python', module: 'x', new_module: 'x.z' } },
        {
          kind: 'update_import',
          payload: { path: 'app/calc.py', language: 'python', module: 'os', remove_names: ['os'] },
        },
      ]),
    );
    expect(repo.read('app/imp.py')).toBe('import sys\nfrom a.b import c, e\nfrom x.z import y\n\nprint(sys, c, y)\n');
    expect(repo.read('app/calc.py')).toBe(CALC.replace('import os\n', ''));
  });

  it('update_import refuses to remove a name that is not imported', async () => {
    setup();
    await expect(
      apply(
        makePlan([
          {
            kind: 'update_import',
            payload: { path: 'app/calc.py', language: 'python', module: 'json', remove_names: ['json'] },
          },
        ]),
      ),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('does not import json') });
  });
});

describe('apply: import lists over several lines', () => {
  it('update_import removes a name on its own line with its line, and adds after the last name', async () => {
    setup({ 'app/multi.py': 'from x import (\n    a,\n    b,\n    c,\n)\n\nprint(a, c)\n' });
    await apply(
      makePlan([
        {
          kind: 'update_import',
          payload: { path: 'app/multi.py', language: 'python', module: 'x', remove_names: ['b'], add_names: ['d'] },
        },
      ]),
    );
    expect(repo.read('app/multi.py')).toBe('from x import (\n    a,\n    c,\n    d,\n)\n\nprint(a, c)\n');
  });

  it('insert_function into a class whose body is a docstring and `pass` replaces the `pass`', async () => {
    setup({ 'app/models.py': 'class UserRepo:\n    """Stores users."""\n\n    pass\n' });
    await apply(
      makePlan([
        {
          kind: 'insert_function',
          payload: {
            path: 'app/models.py',
            language: 'python',
            name: 'save',
            class_name: 'UserRepo',
            code: 'def save(self):\n    """Save."""\n',
          },
        },
      ]),
    );
    expect(repo.read('app/models.py')).toBe(
      'class UserRepo:\n    """Stores users."""\n\n    def save(self):\n        """Save."""\n',
    );
  });

  it('delete_lines takes expected_text that ends with blank lines (lines joined by a line break)', async () => {
    setup();
    await apply(
      makePlan([
        {
          kind: 'delete_lines',
          payload: {
            path: 'app/calc.py',
            start_line: 11,
            end_line: 14,
            expected_text: 'def sub(a, b):\n    return a - b\n\n',
          },
        },
      ]),
    );
    expect(repo.read('app/calc.py')).toBe(CALC.replace('def sub(a, b):\n    return a - b\n\n\n', ''));
  });
});

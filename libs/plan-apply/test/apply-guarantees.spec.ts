import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPlan, parsePlanText } from '../src/index.js';
import { makePlan, snapshot, tempRepo, type TempRepo } from './helpers.js';

const PY = 'def add(a, b):\n    return a + b\n';
const TS = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n';

let repo: TempRepo;
afterEach(() => repo?.remove());

const files = ['app/calc.py', 'src/calc.ts', 'app/new.py', 'app/deep/er/new.py'];

function setup(extra: Record<string, string> = {}): TempRepo {
  repo = tempRepo({ 'app/calc.py': PY, 'src/calc.ts': TS, ...extra });
  return repo;
}

const insertPy = {
  kind: 'insert_function' as const,
  payload: {
    path: 'app/calc.py',
    language: 'python' as const,
    name: 'sub',
    code: 'def sub(a, b):\n    return a - b\n',
  },
};
const insertTs = {
  kind: 'insert_function' as const,
  payload: {
    path: 'src/calc.ts',
    language: 'typescript' as const,
    name: 'sub',
    code: 'export function sub(a: number, b: number): number {\n  return a - b;\n}\n',
  },
};

describe('apply: all or nothing', () => {
  it('a postcondition that fails after writing restores every file (Python and TypeScript) and removes created files and folders', async () => {
    setup();
    const before = snapshot(repo, files);
    const plan = makePlan(
      [insertPy, insertTs, { kind: 'create_file', payload: { path: 'app/deep/er/new.py', content: 'X = 1\n' } }],
      {
        postconditions: [
          { kind: 'symbol_exists', path: 'app/calc.py', symbol: 'sub' },
          { kind: 'symbol_exists', path: 'src/calc.ts', symbol: 'mul' },
        ],
      },
    );
    await expect(applyPlan(plan, { root: repo.root })).rejects.toMatchObject({
      code: 'APPLY_FAILED',
      message: expect.stringMatching(
        /postcondition symbol_exists src\/calc.ts mul does not hold.*Every file was restored/u,
      ),
      data: expect.objectContaining({ restored: true }),
    });
    expect(snapshot(repo, files)).toEqual(before);
    expect(repo.exists('app/deep')).toBe(false);
  });

  it('the same plan with a postcondition that holds is applied, and symbol postconditions see the written files', async () => {
    setup();
    const result = await applyPlan(
      makePlan([insertPy, insertTs], {
        preconditions: [
          { kind: 'file_exists', path: 'app/calc.py' },
          { kind: 'symbol_absent', path: 'src/calc.ts', symbol: 'sub' },
        ],
        postconditions: [
          { kind: 'symbol_exists', path: 'app/calc.py', symbol: 'sub' },
          { kind: 'symbol_exists', path: 'src/calc.ts', symbol: 'sub' },
        ],
      }),
      { root: repo.root },
    );
    expect(result.applied).toBe(true);
    expect(repo.read('app/calc.py')).toContain('def sub(a, b)');
  });

  it('an edit that leaves a file unparseable is rolled back', async () => {
    setup();
    const plan = makePlan([
      insertPy,
      {
        kind: 'replace_node',
        payload: {
          path: 'src/calc.ts',
          language: 'typescript',
          node_kind: 'function',
          name: 'add',
          code: 'function add( {',
        },
      },
    ]);
    await expect(applyPlan(plan, { root: repo.root })).rejects.toMatchObject({
      code: 'APPLY_FAILED',
      message: expect.stringContaining('src/calc.ts would not parse'),
    });
    expect(repo.read('app/calc.py')).toBe(PY);
    expect(repo.read('src/calc.ts')).toBe(TS);
  });

  it('a write that fails part-way (a folder in the way is a file) restores the files already written', async () => {
    setup({ 'app/blocker': 'not a folder\n' });
    const plan = makePlan([
      insertPy,
      { kind: 'create_file', payload: { path: 'app/blocker/new.py', content: 'X = 1\n' } },
    ]);
    await expect(applyPlan(plan, { root: repo.root })).rejects.toMatchObject({
      code: 'APPLY_FAILED',
      message: expect.stringContaining('writing failed'),
    });
    expect(repo.read('app/calc.py')).toBe(PY);
    expect(repo.read('app/blocker')).toBe('not a folder\n');
  });

  it('a failing precondition refuses the plan before anything is computed or written', async () => {
    setup();
    await expect(
      applyPlan(
        makePlan([insertPy], { preconditions: [{ kind: 'symbol_exists', path: 'app/calc.py', symbol: 'mul' }] }),
        {
          root: repo.root,
        },
      ),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('does not define mul') });
    expect(repo.read('app/calc.py')).toBe(PY);
  });

  it('an action that does not fit (second of two) leaves the first unwritten', async () => {
    setup();
    await expect(
      applyPlan(
        makePlan([
          insertPy,
          { kind: 'delete_lines', payload: { path: 'src/calc.ts', start_line: 1, end_line: 1, expected_text: 'nope' } },
        ]),
        { root: repo.root },
      ),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      data: expect.objectContaining({ start_line: 1, end_line: 1 }),
      fix: { command: ['nerion', 'plan', '-i', 'test'] },
    });
    expect(repo.read('app/calc.py')).toBe(PY);
  });
});

describe('apply: refusals', () => {
  it('refuses a plan whose bundle_id does not match its content (edited after planning)', async () => {
    setup();
    const plan = makePlan([insertPy]);
    const edited = JSON.parse(JSON.stringify(plan)) as typeof plan;
    (edited.actions[0]!.payload as { code: string }).code = 'import os\nos.system("rm -rf /")\n';
    await expect(applyPlan(edited, { root: repo.root })).rejects.toMatchObject({
      code: 'PLAN_INVALID',
      message: expect.stringContaining('bundle_id does not match'),
    });
    expect(() => parsePlanText(JSON.stringify(edited), 'plan.json')).toThrow(
      expect.objectContaining({ code: 'PLAN_INVALID' }),
    );
    expect(() => parsePlanText('{not json', 'plan.json')).toThrow(
      expect.objectContaining({ code: 'PLAN_INVALID', message: expect.stringContaining('plan.json is not JSON') }),
    );
    expect(repo.read('app/calc.py')).toBe(PY);
  });

  it('refuses a plan that asks for clarification unless forced', async () => {
    setup();
    const plan = makePlan(
      [{ kind: 'append_to_file', payload: { path: 'app/calc.py', content: '# TODO(nerion): make it better' } }],
      {
        metadata: { clarification_needed: true, questions: ['Which function?'] },
      },
    );
    await expect(
      applyPlan(plan, { root: repo.root, forceCommand: ['nerion', 'apply', '--force', 'p.json'] }),
    ).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('asks for clarification (Which function?)'),
      fix: { command: ['nerion', 'apply', '--force', 'p.json'] },
    });
    expect(repo.read('app/calc.py')).toBe(PY);
    await applyPlan(plan, { root: repo.root, force: true });
    expect(repo.read('app/calc.py')).toBe(`${PY}# TODO(nerion): make it better\n`);
  });

  it('re-checks the jail on disk at apply time: a symlinked folder leading outside is refused', async () => {
    setup();
    const outside = mkdtempSync(join(tmpdir(), 'nerion-outside-'));
    try {
      symlinkSync(outside, join(repo.root, 'linked'));
      await expect(
        applyPlan(makePlan([{ kind: 'create_file', payload: { path: 'linked/evil.py', content: 'x = 1\n' } }]), {
          root: repo.root,
        }),
      ).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a repository-scope rename does not follow a symlink out of the repository', async () => {
    setup({ 'app/main.py': 'from app.calc import add\nadd(1, 2)\n' });
    const outside = mkdtempSync(join(tmpdir(), 'nerion-outside-'));
    try {
      mkdirSync(join(outside, 'pkg'));
      writeFileSync(join(outside, 'pkg', 'user.py'), 'from app.calc import add\n');
      symlinkSync(join(outside, 'pkg'), join(repo.root, 'pkg'));
      await applyPlan(
        makePlan([
          {
            kind: 'rename_symbol',
            payload: {
              path: 'app/calc.py',
              language: 'python',
              old_name: 'add',
              new_name: 'plus',
              scope: 'repository',
            },
          },
        ]),
        { root: repo.root },
      );
      expect(repo.read('app/main.py')).toBe('from app.calc import plus\nplus(1, 2)\n');
      expect(repo.read('pkg/user.py')).toBe('from app.calc import add\n');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('apply: dry run, diff, line ends', () => {
  it('a dry run writes nothing and returns the exact unified diff', async () => {
    setup();
    const result = await applyPlan(makePlan([insertPy]), { root: repo.root, dryRun: true });
    expect(repo.read('app/calc.py')).toBe(PY);
    expect(result.applied).toBe(false);
    expect(result.diff).toBe(
      [
        'diff --git a/app/calc.py b/app/calc.py',
        '--- a/app/calc.py',
        '+++ b/app/calc.py',
        '@@ -1,2 +1,6 @@',
        ' def add(a, b):',
        '     return a + b',
        '+',
        '+',
        '+def sub(a, b):',
        '+    return a - b',
        '',
      ].join('\n'),
    );
    expect(result.files).toEqual([{ path: 'app/calc.py', status: 'modified', added: 4, removed: 0 }]);
  });

  it('a dry run reports a postcondition that would fail', async () => {
    setup();
    await expect(
      applyPlan(makePlan([insertPy], { postconditions: [{ kind: 'file_exists', path: 'app/nope.py' }] }), {
        root: repo.root,
        dryRun: true,
      }),
    ).rejects.toMatchObject({
      code: 'APPLY_FAILED',
      message: expect.stringContaining('Nothing was written (dry run)'),
    });
  });

  it('keeps CRLF line ends and a BOM', async () => {
    setup({ 'app/win.py': '\uFEFFdef add(a, b):\r\n    return a + b\r\n' });
    await applyPlan(makePlan([{ ...insertPy, payload: { ...insertPy.payload, path: 'app/win.py' } }]), {
      root: repo.root,
    });
    expect(repo.read('app/win.py')).toBe(
      '\uFEFFdef add(a, b):\r\n    return a + b\r\n\r\n\r\ndef sub(a, b):\r\n    return a - b\r\n',
    );
  });
});

describe('apply: a failing postcondition rolls back every action kind', () => {
  const files: Record<string, string> = {
    'app/calc.py': 'import os\n\n\ndef add(a, b):\n    return a + b\n',
    'src/calc.ts':
      "import { a } from './x';\n\nexport function add(x: number): number {\n  return x;\n}\n\nexport const K = a;\n",
  };
  const paths = ['app/calc.py', 'src/calc.ts', 'app/new.py', 'tests/test_calc.py'];
  const py = { path: 'app/calc.py', language: 'python' as const };
  const ts = { path: 'src/calc.ts', language: 'typescript' as const };
  const cases: Array<[string, Parameters<typeof makePlan>[0][number]]> = [
    ['create_file', { kind: 'create_file', payload: { path: 'app/new.py', content: 'X = 1\n' } }],
    ['append_to_file', { kind: 'append_to_file', payload: { path: 'app/calc.py', content: 'Y = 2' } }],
    ['insert_function', { kind: 'insert_function', payload: { ...py, name: 'sub', code: 'def sub():\n    pass\n' } }],
    ['insert_class', { kind: 'insert_class', payload: { ...py, name: 'C', code: 'class C:\n    pass\n' } }],
    ['insert_import', { kind: 'insert_import', payload: { ...py, module: 'sys', statement: 'import sys' } }],
    [
      'replace_node',
      {
        kind: 'replace_node',
        payload: { ...py, node_kind: 'function', name: 'add', code: 'def add(a, b):\n    return 0\n' },
      },
    ],
    ['rename_symbol', { kind: 'rename_symbol', payload: { ...ts, old_name: 'add', new_name: 'plus', scope: 'file' } }],
    [
      'delete_lines',
      {
        kind: 'delete_lines',
        payload: { path: 'app/calc.py', start_line: 1, end_line: 1, expected_text: 'import os' },
      },
    ],
    [
      'ensure_test',
      {
        kind: 'ensure_test',
        payload: {
          ...py,
          test_path: 'tests/test_calc.py',
          framework: 'pytest',
          test_name: 'test_add',
          code: 'def test_add():\n    pass\n',
        },
      },
    ],
    ['add_module_docstring', { kind: 'add_module_docstring', payload: { ...py, docstring: 'Calc.' } }],
    [
      'add_function_docstring',
      { kind: 'add_function_docstring', payload: { ...ts, function_name: 'add', docstring: 'Adds.' } },
    ],
    [
      'apply_unified_diff',
      {
        kind: 'apply_unified_diff',
        payload: {
          path: 'app/calc.py',
          diff: '--- a/app/calc.py\n+++ b/app/calc.py\n@@ -1,1 +1,1 @@\n-import os\n+import sys\n',
        },
      },
    ],
    ['update_import', { kind: 'update_import', payload: { ...ts, module: './x', new_module: './y.js' } }],
    ['export_default', { kind: 'export_default', payload: { ...ts, name: 'add' } }],
    ['export_named', { kind: 'export_named', payload: { ...ts, names: ['a'] } }],
    ['insert_interface', { kind: 'insert_interface', payload: { ...ts, name: 'I', code: 'interface I {}' } }],
    ['insert_type_alias', { kind: 'insert_type_alias', payload: { ...ts, name: 'T', code: 'type T = number;' } }],
  ];

  it('covers all 17 kinds', () => {
    expect(new Set(cases.map(([kind]) => kind)).size).toBe(17);
  });

  it.each(cases)('%s: written, then restored when the postcondition fails', async (_kind, action) => {
    repo = tempRepo(files);
    const before = snapshot(repo, paths);
    const plan = makePlan([action], {
      postconditions: [{ kind: 'symbol_exists', path: 'src/calc.ts', symbol: 'NeverDefined' }],
    });
    // The action alone applies (its dry run changes a file) …
    const preview = await applyPlan(makePlan([action]), { root: repo.root, dryRun: true });
    expect(preview.files.length).toBeGreaterThan(0);
    // … and with the failing postcondition nothing of it remains.
    await expect(applyPlan(plan, { root: repo.root })).rejects.toMatchObject({
      code: 'APPLY_FAILED',
      data: expect.objectContaining({ restored: true }),
    });
    expect(snapshot(repo, paths)).toEqual(before);
    expect(repo.exists('tests')).toBe(false);
  });
});

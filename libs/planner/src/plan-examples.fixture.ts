/** Test data (used by the planner's specs; not exported from the package). */
import type { ACTION_KINDS, PlanAction } from './plan-schema.js';

/** One valid action of every kind, with the fields an applier needs. */
export const EXAMPLES: Record<(typeof ACTION_KINDS)[number], PlanAction> = {
  create_file: { kind: 'create_file', payload: { path: 'src/new.ts', content: 'export {};\n', overwrite: false } },
  append_to_file: { kind: 'append_to_file', payload: { path: 'README.md', content: 'More.\n' } },
  insert_function: {
    kind: 'insert_function',
    payload: {
      path: 'src/a.py',
      language: 'python',
      name: 'f',
      code: 'def f():\n    pass\n',
      docstring: 'F.',
      class_name: 'A',
      after_symbol: 'g',
    },
  },
  insert_class: {
    kind: 'insert_class',
    payload: { path: 'src/a.ts', language: 'typescript', name: 'A', code: 'export class A {}\n', exported: true },
  },
  insert_import: {
    kind: 'insert_import',
    payload: {
      path: 'src/a.ts',
      language: 'typescript',
      module: 'node:path',
      names: ['join'],
      statement: "import { join } from 'node:path';",
    },
  },
  replace_node: {
    kind: 'replace_node',
    payload: {
      path: 'src/a.py',
      language: 'python',
      node_kind: 'method',
      name: 'run',
      class_name: 'A',
      code: '    def run(self):\n        return 1\n',
    },
  },
  rename_symbol: {
    kind: 'rename_symbol',
    payload: { path: 'src/a.ts', language: 'typescript', old_name: 'foo', new_name: 'bar', scope: 'repository' },
  },
  delete_lines: {
    kind: 'delete_lines',
    payload: { path: 'src/a.py', start_line: 3, end_line: 5, expected_text: 'x = 1\n' },
  },
  ensure_test: {
    kind: 'ensure_test',
    payload: {
      path: 'src/a.py',
      test_path: 'tests/test_a.py',
      language: 'python',
      framework: 'pytest',
      test_name: 'test_f',
      code: 'def test_f():\n    assert True\n',
    },
  },
  add_module_docstring: {
    kind: 'add_module_docstring',
    payload: { path: 'src/a.py', language: 'python', docstring: 'The a module.' },
  },
  add_function_docstring: {
    kind: 'add_function_docstring',
    payload: { path: 'src/a.py', language: 'python', function_name: 'f', docstring: 'F.' },
  },
  apply_unified_diff: {
    kind: 'apply_unified_diff',
    payload: { path: 'src/a.py', diff: '--- a/src/a.py\n+++ b/src/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n' },
  },
  update_import: {
    kind: 'update_import',
    payload: { path: 'src/a.ts', language: 'typescript', module: './old.js', new_module: './new.js' },
  },
  export_default: { kind: 'export_default', payload: { path: 'src/app.tsx', language: 'typescript', name: 'App' } },
  export_named: {
    kind: 'export_named',
    payload: { path: 'src/index.ts', language: 'typescript', names: ['a', 'b'], from: './a.js' },
  },
  insert_interface: {
    kind: 'insert_interface',
    payload: {
      path: 'src/types.ts',
      language: 'typescript',
      name: 'User',
      code: 'export interface User { id: string }\n',
    },
  },
  insert_type_alias: {
    kind: 'insert_type_alias',
    payload: {
      path: 'src/types.ts',
      language: 'typescript',
      name: 'Id',
      code: 'export type Id = string;\n',
      exported: true,
    },
  },
};

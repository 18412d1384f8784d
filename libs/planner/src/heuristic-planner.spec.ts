import { describe, expect, it } from '@jest/globals';
import { languageOf, planHeuristically } from './heuristic-planner.js';
import { checkPlan } from './plan-validation.js';

const plan = (instruction: string, targetFile?: string) =>
  planHeuristically({ instruction, ...(targetFile ? { targetFile } : {}) });

describe('heuristic planner', () => {
  it('plans the README Quickstart instruction: an exported, documented TypeScript function', () => {
    const result = plan('add a function slugify to src/text.ts');
    expect(checkPlan(result).success).toBe(true);
    expect(result.target_file).toBe('src/text.ts');
    expect(result.metadata).toMatchObject({
      source: 'heuristic',
      planner: 'heuristic',
      language: 'typescript',
      rule: 'insert_function',
    });
    expect(result.actions).toHaveLength(1);
    const action = result.actions[0]!;
    expect(action.kind).toBe('insert_function');
    expect(action.payload).toMatchObject({
      path: 'src/text.ts',
      language: 'typescript',
      name: 'slugify',
      exported: true,
    });
    expect((action.payload as { code: string }).code).toMatch(
      /^\/\*\*[\s\S]*\*\/\nexport function slugify\(\): unknown \{/u,
    );
    expect(result.postconditions).toEqual([{ kind: 'symbol_exists', path: 'src/text.ts', symbol: 'slugify' }]);
  });

  it('is deterministic: the same instruction gives the same plan and bundle_id', () => {
    expect(plan('add a function slugify to src/text.ts')).toEqual(plan('add a function slugify to src/text.ts'));
    expect(plan('add a function slugify to src/text.ts').bundle_id).not.toBe(
      plan('add a function slug to src/text.ts').bundle_id,
    );
  });

  it('writes Python functions with parameters and a docstring taken from the instruction', () => {
    const payload = plan('add a function slugify(text, sep) that turns text into a URL slug to src/text.py').actions[0]!
      .payload as Record<string, string>;
    expect(payload.language).toBe('python');
    expect(payload.docstring).toBe('Turns text into a URL slug.');
    expect(payload.code).toBe(
      'def slugify(text, sep):\n    """Turns text into a URL slug."""\n    raise NotImplementedError("slugify is not implemented yet")\n',
    );
  });

  it('adds methods to a named class', () => {
    const payload = plan('add method save to class UserRepo in app/models.py').actions[0]!.payload as Record<
      string,
      string
    >;
    expect(payload).toMatchObject({ name: 'save', class_name: 'UserRepo' });
    expect(payload.code).toContain('def save(self):');
  });

  it.each([
    [
      'add a class UserRepo that stores users in app/models.py',
      'insert_class',
      { name: 'UserRepo', docstring: 'Stores users.' },
    ],
    ['create file src/new_mod.py', 'create_file', { path: 'src/new_mod.py', overwrite: false }],
    ['rename foo to bar in src/a.ts', 'rename_symbol', { old_name: 'foo', new_name: 'bar', scope: 'file' }],
    [
      'rename class Foo to Bar everywhere in src/a.py',
      'rename_symbol',
      { old_name: 'Foo', new_name: 'Bar', scope: 'repository' },
    ],
    ['add module docstring to src/text_utils.py', 'add_module_docstring', { docstring: 'Text utils module.' }],
    ['add a module docstring "Text helpers." to src/a.py', 'add_module_docstring', { docstring: 'Text helpers.' }],
    ['add docstring to function parse in src/a.py', 'add_function_docstring', { function_name: 'parse' }],
    [
      'import join from node:path in src/a.ts',
      'insert_import',
      { module: 'node:path', names: ['join'], statement: "import { join } from 'node:path';" },
    ],
    ['add import os to src/a.py', 'insert_import', { module: 'os', statement: 'import os' }],
    ['from typing import List, Dict in src/a.py', 'insert_import', { module: 'typing', names: ['List', 'Dict'] }],
    ['append "export const x = 1;" to src/a.ts', 'append_to_file', { content: 'export const x = 1;\n' }],
    ['add interface User to src/types.ts', 'insert_interface', { name: 'User', language: 'typescript' }],
    ['add type alias UserId to src/types.ts', 'insert_type_alias', { name: 'UserId' }],
    ['export default App in src/app.tsx', 'export_default', { name: 'App' }],
    ['export foo, bar in src/index.ts', 'export_named', { names: ['foo', 'bar'] }],
    ['delete lines 3-5 in src/a.py', 'delete_lines', { start_line: 3, end_line: 5 }],
    ['add a test for slugify in src/text.ts', 'ensure_test', { test_path: 'src/text.test.ts', framework: 'jest' }],
  ])('%s → %s', (instruction, kind, payload) => {
    const result = plan(instruction);
    expect(checkPlan(result).success).toBe(true);
    expect(result.actions[0]!.kind).toBe(kind);
    expect(result.actions[0]!.payload).toMatchObject(payload);
  });

  it('takes the target from -f when the instruction names none, and chooses the language by extension', () => {
    expect(plan('add a function main', 'cli.mjs').actions[0]!.payload).toMatchObject({
      path: 'cli.mjs',
      language: 'javascript',
    });
    expect(languageOf('a.pyi')).toBe('python');
    expect(languageOf('a.cts')).toBe('typescript');
    expect(languageOf('a.rs')).toBeUndefined();
  });

  it('asks for clarification in metadata when it cannot map the instruction to a target it has', () => {
    const result = plan('make it better', 'src/a.py');
    expect(checkPlan(result).success).toBe(true);
    expect(result.metadata.clarification_needed).toBe(true);
    expect(result.metadata.questions?.[0]).toContain('Which change should be made to src/a.py?');
    expect(result.actions).toEqual([
      { kind: 'append_to_file', payload: { path: 'src/a.py', content: '# TODO(nerion): make it better\n' } },
    ]);
  });

  it('refuses, with what to do, when there is neither a known pattern nor a target', () => {
    expect(() => plan('make it better')).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', message: expect.stringContaining('-f FILE') }),
    );
    expect(() => plan('add a function f')).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => plan('add a function f to main.rs')).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', message: expect.stringContaining('Python') }),
    );
    expect(() => plan('   ')).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('jails the target file', () => {
    expect(() => plan('add a function x to ../etc/evil.py')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
    expect(() => plan('add a function x', '/etc/evil.py')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
  });
});

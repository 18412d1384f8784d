import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planEvalDir, validatePlan, type Plan } from '@nerion/planner';
import { runCli } from './run-cli.js';

// The everyday instructions, tried as a new user would: `nerion plan` in a git repository (a copy of
// the evaluation set's Python fixture) reads the target and the repository before it plans.
describe('nerion plan reads the repository (built binary, a copy of the Python fixture as a git repository)', () => {
  const repo = mkdtempSync(join(tmpdir(), 'nerion-plan-repo-'));
  cpSync(join(planEvalDir(), 'fixtures', 'python-app'), repo, { recursive: true });
  const git = (...args: string[]) =>
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'init');
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  const plan = async (...args: string[]): Promise<Plan> => {
    const run = await runCli(['plan', ...args], { cwd: repo, env: { NERION_CACHE_DIR: join(repo, '.cache') } });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    return validatePlan(JSON.parse(run.stdout));
  };

  it('"remove unused import os" -f app/calc.py is the exact line deletion, not an insert', async () => {
    const result = await plan('-i', 'remove unused import os', '-f', 'app/calc.py');
    expect(result.actions).toEqual([
      {
        kind: 'delete_lines',
        payload: { path: 'app/calc.py', start_line: 2, end_line: 2, expected_text: 'import os' },
      },
    ]);
  });

  it('"remove the import of sys from app/calc.py" targets app/calc.py and removes import sys', async () => {
    const result = await plan('-i', 'remove the import of sys from app/calc.py');
    expect(result.target_file).toBe('app/calc.py');
    expect(result.actions).toEqual([
      {
        kind: 'delete_lines',
        payload: { path: 'app/calc.py', start_line: 3, end_line: 3, expected_text: 'import sys' },
      },
    ]);
  });

  it('"rename add to plus in app/calc.py" is repository-wide: app/main.py imports add', async () => {
    const result = await plan('-i', 'rename add to plus in app/calc.py');
    expect(result.actions[0]!.payload).toMatchObject({ old_name: 'add', new_name: 'plus', scope: 'repository' });
    expect(result.metadata.notes?.join(' ')).toContain('app/main.py');
  });

  it('"delete the function sub" and "insert \'import logging\' at the top of …" plan what was asked', async () => {
    const deleted = await plan('-i', 'delete the function sub', '-f', 'app/calc.py');
    expect(deleted.actions[0]).toMatchObject({ kind: 'delete_lines', payload: { start_line: 13, end_line: 16 } });
    const inserted = await plan('-i', "insert 'import logging' at the top of app/calc.py");
    expect(inserted.actions[0]).toMatchObject({
      kind: 'insert_import',
      payload: { module: 'logging', statement: 'import logging' },
    });
  });

  it('a test for a module goes under the repository’s tests/ folder', async () => {
    const result = await plan('-i', 'add a test for add in app/calc.py');
    expect(result.actions[0]!.payload).toMatchObject({ test_path: 'tests/test_calc.py', framework: 'pytest' });
  });
});

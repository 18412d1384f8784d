import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalizePlan, type Plan, type PlanAction, type PlanCondition } from '@nerion/planner';
import { git } from '@nerion/test-support';
import { runCli } from './run-cli.js';

jest.setTimeout(180_000);

const CALC = 'import os\nimport sys\n\n\ndef add(a, b):\n    return a + b\n';
const MAIN = 'from app.calc import add\n\nprint(add(1, 2))\n';

const repos: string[] = [];
afterAll(() => {
  for (const repo of repos) rmSync(repo, { recursive: true, force: true });
});

/** A temp git repository with one commit: app/calc.py, app/main.py and src/text.ts. */
function makeRepo(): string {
  const repo = mkdtempSync(join(tmpdir(), 'nerion-apply-cli-'));
  repos.push(repo);
  git(repo, 'init', '-q');
  mkdirSync(join(repo, 'app'));
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'app', '__init__.py'), '');
  writeFileSync(join(repo, 'app', 'calc.py'), CALC);
  writeFileSync(join(repo, 'app', 'main.py'), MAIN);
  writeFileSync(join(repo, 'src', 'text.ts'), 'export const greeting = "hi";\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  return repo;
}

/** `git diff` without its `index …` lines (blob ids) and hunk-header function context, to compare with nerion's diff. */
const gitDiff = (repo: string): string =>
  git(repo, 'diff')
    .split('\n')
    .filter((line) => !line.startsWith('index '))
    .map((line) => line.replace(/^(@@ [^@]+ @@).*$/u, '$1'))
    .join('\n');

const modified = (repo: string): string[] =>
  git(repo, 'status', '--porcelain', '--untracked-files=no')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();

function planFile(repo: string, actions: PlanAction[], postconditions?: PlanCondition[]): { path: string; plan: Plan } {
  const plan = finalizePlan(
    { actions, ...(postconditions ? { postconditions } : {}) },
    { source: 'heuristic', instruction: 'test', planner: 'heuristic' },
  );
  const path = join(repo, 'plan.json');
  writeFileSync(path, JSON.stringify(plan, null, 2));
  return { path, plan };
}

describe('nerion apply and nerion plan --apply/--diff (built binary, temp git repositories)', () => {
  it('as a new user: plan --diff shows the change, plan --apply makes it, and git diff shows exactly that diff', async () => {
    const repo = makeRepo();
    const instruction = 'add module docstring "Calculator." to app/calc.py';
    const preview = await runCli(['plan', '-i', instruction, '--diff'], { cwd: repo });
    expect(preview.status).toBe(0);
    expect(preview.stderr).toContain('dry run: nothing was written');
    expect(modified(repo)).toEqual([]);

    const applied = await runCli(['plan', '-i', instruction, '--apply'], { cwd: repo });
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/^applied plan [0-9a-f]{12}: 1 file changed\nM app\/calc.py \(\+2 -0\)\n$/u);
    expect(readFileSync(join(repo, 'app', 'calc.py'), 'utf8')).toBe(`"""Calculator."""\n\n${CALC}`);
    expect(gitDiff(repo)).toBe(preview.stdout);
  });

  it('a repository-scope rename planned and applied in one step changes every importer, and nothing else', async () => {
    const repo = makeRepo();
    const run = await runCli(['plan', '-i', 'rename add to plus everywhere', '-f', 'app/calc.py', '--apply'], {
      cwd: repo,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('M app/calc.py (+1 -1)');
    expect(run.stdout).toContain('M app/main.py (+2 -2)');
    expect(readFileSync(join(repo, 'app', 'main.py'), 'utf8')).toBe('from app.calc import plus\n\nprint(plus(1, 2))\n');
    expect(modified(repo)).toEqual(['M app/calc.py', 'M app/main.py']);
  });

  it('nerion apply PLAN.json --json prints what changed; `-` reads the plan from stdin; --dry-run writes nothing', async () => {
    const repo = makeRepo();
    const { path, plan } = planFile(repo, [
      {
        kind: 'insert_function',
        payload: { path: 'app/calc.py', language: 'python', name: 'sub', code: 'def sub(a, b):\n    return a - b\n' },
      },
    ]);
    const dry = await runCli(['apply', '-', '--dry-run'], { cwd: repo, input: JSON.stringify(plan) });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('+def sub(a, b):');
    // No argument: the plan is read from stdin when stdin is not a terminal.
    const piped = await runCli(['apply', '--diff'], { cwd: repo, input: JSON.stringify(plan, null, 2) });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe(dry.stdout);
    const empty = await runCli(['apply'], { cwd: repo, input: '' });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('stdin is empty');
    expect(readFileSync(join(repo, 'app', 'calc.py'), 'utf8')).toBe(CALC);

    const run = await runCli(['apply', path, '--json'], { cwd: repo });
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      bundle_id: plan.bundle_id,
      applied: true,
      dry_run: false,
      files: [{ path: 'app/calc.py', status: 'modified', added: 4, removed: 0 }],
      actions: [{ index: 0, kind: 'insert_function', path: 'app/calc.py', outcome: 'applied' }],
    });
    expect(gitDiff(repo)).toBe(result.diff);
  });

  it('refusals and rollback have their exit statuses and leave the repository untouched', async () => {
    const repo = makeRepo();
    // An edited plan: bundle_id no longer matches (exit 5).
    const { path, plan } = planFile(repo, [
      { kind: 'append_to_file', payload: { path: 'app/calc.py', content: '# one' } },
    ]);
    const edited = {
      ...plan,
      actions: [{ kind: 'append_to_file', payload: { path: 'app/calc.py', content: '# two' } }],
    };
    writeFileSync(path, JSON.stringify(edited));
    const tampered = await runCli(['apply', path], { cwd: repo });
    expect(tampered.status).toBe(5);
    expect(tampered.stderr).toContain('Error [PLAN_INVALID]');
    expect(tampered.stderr).toContain('bundle_id does not match');

    // A plan asking for clarification (exit 8), unless --force.
    const asking = await runCli(['plan', '-i', 'make it better', '-f', 'app/calc.py', '--apply'], { cwd: repo });
    expect(asking.status).toBe(8);
    expect(asking.stderr).toContain('asks for clarification');

    // A postcondition that fails after writing: rolled back (exit 9).
    const failing = planFile(
      repo,
      [{ kind: 'append_to_file', payload: { path: 'app/calc.py', content: 'X = 1' } }],
      [{ kind: 'symbol_exists', path: 'app/calc.py', symbol: 'Y' }],
    );
    const rolledBack = await runCli(['apply', failing.path], { cwd: repo });
    expect(rolledBack.status).toBe(9);
    expect(rolledBack.stderr).toContain('Error [APPLY_FAILED]');
    expect(rolledBack.stderr).toContain('Every file was restored');

    // delete_lines whose text moved: refused with the line numbers (exit 8).
    const moved = planFile(repo, [
      {
        kind: 'delete_lines',
        payload: { path: 'app/calc.py', start_line: 1, end_line: 1, expected_text: 'import sys' },
      },
    ]);
    const refused = await runCli(['apply', moved.path], { cwd: repo });
    expect(refused.status).toBe(8);
    expect(refused.stderr).toContain(
      'lines 1-1 of app/calc.py no longer hold the expected text (it is now at lines 2-2',
    );

    expect(modified(repo)).toEqual([]);
    const forced = await runCli(['plan', '-i', 'make it better', '-f', 'app/calc.py', '--apply', '--force'], {
      cwd: repo,
    });
    expect(forced.status).toBe(0);
    expect(readFileSync(join(repo, 'app', 'calc.py'), 'utf8')).toBe(`${CALC}# TODO(nerion): make it better\n`);
  });

  it('loads no inference engine (a module-resolution hook records engine imports, and the applier)', async () => {
    const repo = makeRepo();
    const { path } = planFile(repo, [{ kind: 'append_to_file', payload: { path: 'notes.txt', content: 'hi' } }]);
    const log = join(repo, 'engines.log');
    const hook = join(repo, 'hook.mjs');
    writeFileSync(
      hook,
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  if (/^(node-llama-cpp|openai|ollama|undici|tinybench|@nerion\\/plan-apply)(\\/|$)/.test(specifier)) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');\n  return next(specifier, context);\n}\n`,
    );
    const register = join(repo, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hook}`)});\n`,
    );
    writeFileSync(log, '');
    const run = await runCli(['apply', path], { cwd: repo, env: { NODE_OPTIONS: `--import=${register}` } });
    expect(run.status).toBe(0);
    expect(readFileSync(join(repo, 'notes.txt'), 'utf8')).toBe('hi\n');
    // The hook saw the applier load (so an engine import would have been seen too), and no engine.
    expect([...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))]).toEqual(['@nerion/plan-apply']);
  });
});

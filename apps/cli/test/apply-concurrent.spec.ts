import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalizePlan, type PlanAction } from '@nerion/planner';
import { CLI_BIN, type CliRun } from './run-cli.js';

jest.setTimeout(240_000);

const FILES = 1500;

function git(cwd: string, ...args: string[]): void {
  const result = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
}

const repos: string[] = [];
afterAll(() => {
  for (const repo of repos) rmSync(repo, { recursive: true, force: true });
});

/** A git repository where `helper` (app/util.py) is used by FILES modules: a repository-wide rename takes a while. */
function makeRepo(): string {
  const repo = mkdtempSync(join(tmpdir(), 'nerion-apply-concurrent-'));
  repos.push(repo);
  git(repo, 'init', '-q');
  mkdirSync(join(repo, 'app'));
  writeFileSync(join(repo, 'app', '__init__.py'), '');
  writeFileSync(join(repo, 'app', 'util.py'), 'def helper():\n    return 1\n');
  for (let index = 0; index < FILES; index += 1)
    writeFileSync(
      join(repo, 'app', `m${index}.py`),
      `from app.util import helper\n\n\ndef use${index}():\n    return helper()\n`,
    );
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  return repo;
}

function writePlan(repo: string, name: string, actions: PlanAction[]): string {
  const plan = finalizePlan({ actions }, { source: 'heuristic', instruction: name, planner: 'heuristic' });
  const path = join(repo, `${name}.json`);
  writeFileSync(path, JSON.stringify(plan));
  return path;
}

function startApply(repo: string, plan: string): { done: Promise<CliRun>; exited: () => boolean } {
  const child = spawn(process.execPath, [CLI_BIN, 'apply', plan], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', HOME: repo, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let finished = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (status) => {
      finished = true;
      resolve({ status, stdout, stderr });
    }),
  );
  return { done, exited: () => finished };
}

/**
 * Two real `nerion apply` processes on one repository at once: a repository-wide rename (slow: FILES files)
 * and an append to one of the files it renames in. The second waits for the first's `.nerion/apply.lock`, so
 * both succeed and the file holds both changes; before the lock, the two read, computed and wrote at the
 * same time (the rename then failed on the file changed under it, or one change was lost).
 */
describe('nerion apply: two processes at once on one repository (built binary, temp git repository)', () => {
  it('the second waits for the first (it says so), both exit 0, and both changes are in the files', async () => {
    const repo = makeRepo();
    const rename = writePlan(repo, 'rename', [
      {
        kind: 'rename_symbol',
        payload: {
          path: 'app/util.py',
          language: 'python',
          old_name: 'helper',
          new_name: 'assist',
          scope: 'repository',
        },
      },
    ]);
    const append = writePlan(repo, 'append', [
      { kind: 'append_to_file', payload: { path: 'app/m7.py', content: '\n\nAPPENDED = True\n' } },
    ]);
    const lock = join(repo, '.nerion', 'apply.lock');
    const first = startApply(repo, rename);
    // The second starts once the first holds the lock (or, without one, after the first has started working).
    const started = Date.now();
    while (!existsSync(lock) && !first.exited() && Date.now() - started < 1500)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first.exited()).toBe(false);
    const second = startApply(repo, append);
    const [renamed, appended] = await Promise.all([first.done, second.done]);

    expect(renamed.stderr).not.toContain('Error');
    expect(renamed.status).toBe(0);
    expect(renamed.stdout).toContain(`${FILES + 1} files changed`);
    expect(appended.status).toBe(0);
    expect(readFileSync(join(repo, 'app', 'm7.py'), 'utf8')).toBe(
      'from app.util import assist\n\n\ndef use7():\n    return assist()\n\n\nAPPENDED = True\n',
    );
    expect(readFileSync(join(repo, 'app', 'm8.py'), 'utf8')).toContain('return assist()');
    // No write of the second landed among the first's: the append is later than every file the rename wrote.
    const appendedAt = statSync(join(repo, 'app', 'm7.py')).mtimeMs;
    const renameWrites = readdirSync(join(repo, 'app'))
      .filter((name) => name !== 'm7.py' && name !== '__init__.py')
      .map((name) => statSync(join(repo, 'app', name)).mtimeMs);
    expect(renameWrites.filter((writtenAt) => writtenAt > appendedAt)).toEqual([]);
    expect(appended.stderr).toContain('another nerion apply is running in');
    // The lock is gone: nothing but the empty state folder stays.
    expect(readdirSync(join(repo, '.nerion'))).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPathsInsideRepo, diffHeaderPaths } from './repo-path.js';

describe('assertPathsInsideRepo (symlinks resolved on disk)', () => {
  let base: string;
  let repo: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'nerion-jail-'));
    repo = join(base, 'repo');
    mkdirSync(join(repo, 'src'), { recursive: true });
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(repo, 'src', 'a.py'), 'x = 1\n');
    symlinkSync(join(base, 'outside'), join(repo, 'escape'));
    symlinkSync(join(base, 'outside', 'secret.txt'), join(repo, 'dangling'));
    symlinkSync(join(repo, 'src'), join(repo, 'alias'));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('accepts existing files, new files and new folders inside the repository, and links that stay inside', () => {
    expect(() =>
      assertPathsInsideRepo(repo, ['src/a.py', 'src/new.py', 'new/dir/file.ts', 'alias/a.py']),
    ).not.toThrow();
  });

  it('rejects a path through a symlinked folder that leads outside, even when the file does not exist yet', () => {
    expect(() => assertPathsInsideRepo(repo, ['escape/new.py'])).toThrow(
      expect.objectContaining({ code: 'PATH_ESCAPE', message: expect.stringContaining('symbolic link') }),
    );
    expect(() => assertPathsInsideRepo(repo, ['escape/deeper/still/new.py'])).toThrow(
      expect.objectContaining({ code: 'PATH_ESCAPE' }),
    );
  });

  it('rejects a dangling link pointing outside, and purely lexical escapes', () => {
    expect(() => assertPathsInsideRepo(repo, ['dangling'])).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
    expect(() => assertPathsInsideRepo(repo, ['../outside/x'])).toThrow(
      expect.objectContaining({ code: 'PATH_ESCAPE' }),
    );
  });

  it('works when the repository root itself is reached through a symlink', () => {
    const linkToRepo = join(base, 'repo-link');
    symlinkSync(repo, linkToRepo);
    expect(() => assertPathsInsideRepo(linkToRepo, ['src/a.py'])).not.toThrow();
    expect(() => assertPathsInsideRepo(linkToRepo, ['escape/x'])).toThrow(
      expect.objectContaining({ code: 'PATH_ESCAPE' }),
    );
  });
});

describe('diffHeaderPaths', () => {
  it('reads ---/+++ (with a/ b/ prefixes and timestamps), diff --git and rename lines; skips /dev/null', () => {
    const diff =
      'diff --git a/src/x.py b/src/y.py\nrename from src/x.py\nrename to src/y.py\n--- a/src/x.py\t2024-01-01 00:00\n+++ b/src/y.py\n--- /dev/null\n+++ b/new.py\n';
    expect(new Set(diffHeaderPaths(diff))).toEqual(new Set(['src/x.py', 'src/y.py', 'new.py']));
  });
});

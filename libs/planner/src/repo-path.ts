/**
 * The repo jail for every path a plan carries. `checkRepoRelativePath` is pure (used inside the schema);
 * `assertPathsInsideRepo` also resolves symlinks against a real repository root on disk.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { NerionError } from '@nerion/backend-core';

export const MAX_PATH_LENGTH = 1024;

/** Returns why `path` is not an acceptable repo-relative path, or undefined when it is. */
export function checkRepoRelativePath(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.includes('\\')) return 'contains a backslash (use forward slashes; backslashes can hide "..\\" escapes)';
  if ([...path].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f))
    return 'contains a control character';
  if (path.startsWith('/') || isAbsolute(path) || /^[A-Za-z]:/u.test(path))
    return 'is absolute (paths are relative to the repository root)';
  if (path.startsWith('~')) return 'starts with "~" (paths are relative to the repository root)';
  const normalised = posix.normalize(path);
  if (normalised === '.' || normalised === './' || normalised === '')
    return 'names the repository root itself, not a file';
  if (normalised === '..' || normalised.startsWith('../')) return 'escapes the repository with ".."';
  const first = normalised.split('/')[0];
  if (first === '.git') return 'points into .git/';
  if (first === '.nerion') return "points into .nerion/ (nerion's own state)";
  if (normalised.endsWith('/')) return 'names a directory, not a file';
  return undefined;
}

/** A repo-relative path in its canonical form (`./src//a.ts` → `src/a.ts`). Assumes it passed the check. */
export function normaliseRepoPath(path: string): string {
  return posix.normalize(path).replace(/^\.\//u, '');
}

/** Paths named by a unified diff's headers (`---`, `+++`, `diff --git`, rename/copy lines); `/dev/null` omitted. */
export function diffHeaderPaths(diff: string): string[] {
  const paths: string[] = [];
  const strip = (raw: string): string => {
    let value = raw.replace(/\t.*$/u, '').trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value;
  };
  const dropPrefix = (value: string): string => (/^[ab]\//u.test(value) ? value.slice(2) : value);
  for (const line of diff.split('\n')) {
    let match: RegExpExecArray | null;
    if ((match = /^(?:---|\+\+\+) (.+)$/u.exec(line))) {
      const value = strip(match[1]);
      if (value !== '/dev/null') paths.push(dropPrefix(value));
    } else if ((match = /^diff --git (\S+) (\S+)\s*$/u.exec(line))) {
      paths.push(dropPrefix(strip(match[1])), dropPrefix(strip(match[2])));
    } else if ((match = /^(?:rename|copy) (?:from|to) (.+)$/u.exec(line))) {
      paths.push(strip(match[1]));
    }
  }
  return paths;
}

/**
 * Checks on disk that each repo-relative path stays inside `root` once symlinks are resolved: the deepest
 * existing ancestor of `root/path` is resolved with realpath and must lie inside realpath(root).
 * Throws PATH_ESCAPE naming the path and where it leads.
 */
export function assertPathsInsideRepo(root: string, paths: Iterable<string>): void {
  const realRoot = realpathSync(root);
  for (const path of paths) {
    const reason = checkRepoRelativePath(path);
    if (reason)
      throw new NerionError(
        'PATH_ESCAPE',
        `The plan path "${path}" ${reason}; plans may only touch files inside the repository.`,
        { data: { path } },
      );
    let candidate = join(realRoot, normaliseRepoPath(path));
    const missing: string[] = [];
    for (;;) {
      if (existsNoFollow(candidate)) break;
      const parent = join(candidate, '..');
      if (parent === candidate) break;
      missing.unshift(candidate.slice(parent.length + 1));
      candidate = parent;
    }
    let base: string;
    try {
      base = realpathSync(candidate);
    } catch (error) {
      throw new NerionError(
        'PATH_ESCAPE',
        `The plan path "${path}" goes through a symbolic link that cannot be resolved (${(error as Error).message}); remove the dangling link or choose another path.`,
        { cause: error, data: { path } },
      );
    }
    const resolved = join(base, ...missing);
    const inside = relative(realRoot, resolved);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new NerionError(
        'PATH_ESCAPE',
        `The plan path "${path}" leads outside the repository (to ${resolved}) through a symbolic link; remove the link or choose a path inside ${realRoot}.`,
        {
          data: { path, resolved, root: realRoot },
        },
      );
    }
  }
}

function existsNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
      return false;
    throw error;
  }
}

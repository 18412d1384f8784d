/**
 * One `nerion apply` at a time per repository: `.nerion/apply.lock` (a directory created atomically by
 * proper-lockfile, its mtime refreshed while held, broken when stale, i.e. when its holder died) is held
 * from the first read of the files to the last check after writing. A second apply waits for it, up to a
 * bound, then fails naming the lock and what to do. Without it two applies could each read a file, compute
 * their edits and write in turn, the second silently dropping the first's change.
 *
 * proper-lockfile (already the download lock's library, in @nerion/catalog) rather than the plan cache's
 * hand-written lock: an apply runs for seconds at most and a crashed one is rare, so waiting out the
 * staleness of a dead holder's lock (STALE_MS) is acceptable, and the refreshed mtime keeps a long apply
 * (a repository-wide rename) from being judged stale while it runs.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NerionError, describeError } from '@nerion/backend-core';

/** A lock not refreshed for this long belongs to a dead process and is broken. */
const STALE_MS = 10_000;

export interface RepositoryLockOptions {
  /** How long to wait for another apply's lock (default 60 s: a large apply, or a dead holder's stale lock). */
  waitMs?: number;
  /** Called once when another apply holds the lock and this one starts waiting, and if the lock is lost. */
  warn?: (message: string) => void;
}

export function applyLockPath(root: string): string {
  return join(root, '.nerion', 'apply.lock');
}

/** Runs `work` holding the repository's apply lock. APPLY_FAILED when it cannot be had in time. */
export async function withRepositoryLock<T>(
  root: string,
  options: RepositoryLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const { default: lockfile } = await import('proper-lockfile');
  const lockPath = applyLockPath(root);
  const cannot = (error: unknown): NerionError =>
    new NerionError(
      'APPLY_FAILED',
      `Cannot take the apply lock ${lockPath} (${describeError(error)}); nothing was changed. Fix the permissions of ${join(root, '.nerion')}.`,
      { cause: error, data: { lockPath } },
    );
  // The lock goes only into a real `.nerion` folder of the repository, never where a symbolic link leads.
  const state = join(root, '.nerion');
  const info = await lstat(state).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw cannot(error);
  });
  if (info !== undefined && !info.isDirectory())
    throw new NerionError(
      'PATH_ESCAPE',
      `${state} is not a folder (${info.isSymbolicLink() ? 'a symbolic link' : 'a file'}); nerion keeps its state there and will not follow it. Remove it and apply again.`,
      { data: { path: state } },
    );
  await mkdir(state, { recursive: true }).catch((error: unknown) => {
    throw cannot(error);
  });
  const waitMs = options.waitMs ?? 60_000;
  const started = Date.now();
  let lost: unknown;
  let release: (() => Promise<void>) | undefined;
  let waited = false;
  while (release === undefined) {
    try {
      release = await lockfile.lock(root, {
        realpath: false,
        lockfilePath: lockPath,
        stale: STALE_MS,
        retries: 0,
        onCompromised: (error) => {
          lost = error;
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw cannot(error);
      if (Date.now() - started >= waitMs)
        throw new NerionError(
          'APPLY_FAILED',
          `Another nerion apply has held ${lockPath} for more than ${Math.round(waitMs / 1000)} s; nothing was changed. Wait for it to finish and run this apply again (if no nerion is running, the lock is broken by itself ${STALE_MS / 1000} s after its holder stopped).`,
          { data: { lockPath, root } },
        );
      if (!waited) {
        waited = true;
        options.warn?.(`another nerion apply is running in ${root}; waiting for it to finish (${lockPath})…`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
    if (lost !== undefined)
      options.warn?.(
        `the apply lock ${lockPath} was taken over while this apply ran (${describeError(lost)}); check the changed files with \`git diff\`.`,
      );
  }
}

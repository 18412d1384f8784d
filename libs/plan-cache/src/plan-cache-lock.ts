/**
 * The plan cache's cross-process lock: `plan_cache.json.lock`, a file created with O_EXCL holding its
 * owner (token, pid, host). A lock is stale when its owner is a dead process on this host (broken at once)
 * or when it is older than `staleMs`; breaking moves it aside atomically and checks it was the one judged.
 *
 * Hand-written rather than proper-lockfile (4.1.2): that library judges staleness by mtime alone (its
 * lockfile.js: `stat.mtime < Date.now() - stale`, stale ≥ 2000 ms) and records no owner, so a lock left by
 * a crashed `nerion plan` would block the next run for seconds instead of being broken at once, and it
 * cannot say whose lock it broke. Loaded only by writers (the cache-hit path never imports it).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NerionError, describeError, sleep } from '@nerion/backend-core';
import { readLockFile } from './state-file.js';

export interface LockSettings {
  /** The lock file's path. */
  lockFile: string;
  /** How long to wait for another process's lock. */
  timeoutMs: number;
  /** A lock older than this, or held by a dead process on this host, is broken. */
  staleMs: number;
  now: () => number;
  warn: (message: string) => void;
}

/** Runs `work` holding the lock; breaks stale locks; CACHE_ERROR when it cannot be had in time. */
export async function withLock<T>(settings: LockSettings, work: () => Promise<T>): Promise<T> {
  const { lockFile } = settings;
  await mkdir(dirname(lockFile), { recursive: true });
  const token = `${hostname()}:${process.pid}:${randomBytes(8).toString('hex')}`;
  const started = settings.now();
  let delay = 2;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify({ token, pid: process.pid, host: hostname(), created: Date.now() }));
      } catch (error) {
        // Never leave an empty lock behind (it would hold every other process off until it goes stale).
        await handle.close();
        await unlink(lockFile).catch(() => undefined);
        throw new NerionError(
          'CACHE_ERROR',
          `Cannot write the plan cache lock ${lockFile} (${describeError(error)}); free some space or fix the folder, or run with --no-cache.`,
          { cause: error },
        );
      }
      await handle.close();
      break;
    } catch (error) {
      if (NerionError.isInstance(error)) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new NerionError(
          'CACHE_ERROR',
          `Cannot create the plan cache lock ${lockFile} (${describeError(error)}); fix the folder's permissions or run with --no-cache.`,
          { cause: error },
        );
      }
    }
    if (await breakIfStale(settings)) continue;
    if (settings.now() - started > settings.timeoutMs) {
      throw new NerionError(
        'CACHE_ERROR',
        `Timed out after ${settings.timeoutMs} ms waiting for the plan cache lock ${lockFile}; another nerion process holds it. Retry, delete the lock if no nerion is running, or use --no-cache.`,
        {
          data: { lockFile },
        },
      );
    }
    await sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await work();
  } finally {
    await releaseLock(settings, token);
  }
}

async function releaseLock(settings: LockSettings, token: string): Promise<void> {
  const held = await readLockFile(settings.lockFile).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (held === undefined || !held.includes(token)) {
    settings.warn(
      `the plan cache lock was taken from this process (it was considered stale); the cache file is still whole.`,
    );
    return;
  }
  await unlink(settings.lockFile);
}

/** True when a stale lock was removed (then the caller retries at once). */
async function breakIfStale(settings: LockSettings): Promise<boolean> {
  const { lockFile } = settings;
  let content: string;
  let modified: number;
  try {
    content = await readLockFile(lockFile);
    modified = (await lstat(lockFile)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  let owner: { token?: string; pid?: number; host?: string } = {};
  try {
    owner = JSON.parse(content) as typeof owner;
  } catch {
    // A lock whose content is not written yet (or torn by a crash) is judged by its age alone.
    owner = {};
  }
  const age = Date.now() - modified;
  const deadOwner = owner.host === hostname() && typeof owner.pid === 'number' && !isAlive(owner.pid);
  if (!deadOwner && age < settings.staleMs) return false;
  if (owner.token === undefined && age < settings.staleMs) return false;
  // Its owner may have released it and exited after it was read (then a new holder's lock is there now, and
  // moving that aside could let a third process in beside it): break only the very lock that was judged.
  let again: string;
  try {
    again = await readLockFile(lockFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  if (again !== content) return false;
  // Move the lock aside atomically, then make sure it was the one judged stale (not a fresh one).
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  const moved = await readLockFile(aside);
  if (moved !== content) {
    // A fresh lock replaced the stale one in between: put it back if nobody holds the name now.
    await link(aside, lockFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await unlink(aside);
    return false;
  }
  await unlink(aside);
  settings.warn(
    `broke a stale plan cache lock (${deadOwner ? `process ${owner.pid} is gone` : `${Math.round(age / 1000)} s old`}).`,
  );
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

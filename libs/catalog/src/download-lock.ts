/**
 * One download per destination: a lock (`<destination>.lock`, a directory created atomically by
 * proper-lockfile, its mtime refreshed while held and broken when stale, i.e. when its holder died) is
 * held while a file is checked, downloaded and recorded. A second process waits for it, and says so.
 */
import { diskError, makeDirectory } from './disk-error.js';
import { dirname } from 'node:path';
import { NerionError, describeError, sleep } from '@nerion/backend-core';

/** A lock not refreshed for this long belongs to a dead process and is broken. */
const STALE_MS = 30_000;
const POLL_MS = 250;

export function lockPathOf(destination: string): string {
  return `${destination}.lock`;
}

export interface DestinationLockOptions {
  /** Called once when another process holds the lock and this one starts waiting. */
  onWait?: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs `work` holding the lock on `destination`. `work` gets a signal that aborts if the lock is lost
 * (its directory removed or taken over), so a download never goes on writing without it.
 */
export async function withDestinationLock<T>(
  destination: string,
  options: DestinationLockOptions,
  work: (lockLost: AbortSignal) => Promise<T>,
): Promise<T> {
  const { default: lockfile } = await import('proper-lockfile');
  const lockPath = lockPathOf(destination);
  await makeDirectory(dirname(destination)).catch((error: unknown) => {
    throw diskError(error, `create ${dirname(destination)}`, dirname(destination));
  });
  const lost = new AbortController();
  let release: (() => Promise<void>) | undefined;
  let waited = false;
  while (release === undefined) {
    try {
      release = await lockfile.lock(destination, {
        realpath: false,
        lockfilePath: lockPath,
        stale: STALE_MS,
        retries: 0,
        onCompromised: (error) =>
          lost.abort(
            new NerionError(
              'DOWNLOAD_FAILED',
              `The download lock ${lockPath} was lost (${describeError(error)}), so nerion stopped writing ${destination}. Run the same command again.`,
              { cause: error, data: { lockPath, destination } },
            ),
          ),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new NerionError(
          'DOWNLOAD_FAILED',
          `Cannot create the download lock ${lockPath} (${describeError(error)}); check that its folder is writable.`,
          { cause: error, data: { lockPath } },
        );
      }
      if (!waited) {
        waited = true;
        options.onWait?.(
          `Another nerion is downloading ${destination} (lock ${lockPath}); waiting for it to finish… (Ctrl-C stops waiting; the other download goes on.)`,
        );
      }
      await pollPause(POLL_MS, options.signal);
    }
  }
  try {
    return await work(lost.signal);
  } finally {
    await release().catch(() => undefined); // already released when compromised
  }
}

/** An abort while waiting becomes ABORTED with the caller's reason as its cause. */
async function pollPause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (error) {
    throw abortedWaiting(error);
  }
}

function abortedWaiting(cause: unknown): NerionError {
  return new NerionError('ABORTED', 'Stopped waiting for the other download; nothing was changed.', { cause });
}

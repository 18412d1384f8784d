/**
 * A local file-system failure while downloading or recording a model (the cache disk is read-only, full, or
 * not writable) as DOWNLOAD_FAILED saying so and naming the fix (NERION_CACHE_DIR), never INTERNAL.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NerionError, describeError } from '@nerion/backend-core';

/**
 * `mkdir -p`, reporting the real cause: Node's recursive mkdir says ENOENT when a read-only disk refuses the
 * first missing level, so that level is created again on its own to surface EROFS (or EACCES).
 */
export async function makeDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let first = directory;
    while (dirname(first) !== first && !(await pathExists(dirname(first)))) first = dirname(first);
    await mkdir(first); // throws the real errno (EROFS, EACCES)
    await mkdir(directory, { recursive: true });
  }
}

async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * A local file-system failure while downloading (the cache disk is read-only, full, or not writable) as
 * DOWNLOAD_FAILED saying so and naming the fix (NERION_CACHE_DIR), never INTERNAL.
 */
export function diskError(error: unknown, what: string, directory: string, partRemoved = false): NerionError {
  if (NerionError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EROFS'
      ? `${directory} is on a read-only disk`
      : code === 'ENOSPC' || code === 'EDQUOT'
        ? `no space left on the disk of ${directory}${partRemoved ? ' (the partial file was removed)' : ''}`
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied in ${directory}`
          : `the cache folder ${directory} is not usable`;
  return new NerionError(
    'DOWNLOAD_FAILED',
    `Cannot ${what}: ${why} (${describeError(error)}). Free some space or fix the folder, or point NERION_CACHE_DIR at a writable disk with room, then run the same command again.`,
    {
      cause: error,
      data: { directory, ...(code === undefined ? {} : { errno: code }) },
      fix: { settings: ['NERION_CACHE_DIR'] },
    },
  );
}

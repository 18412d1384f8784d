/**
 * Reading a small settings file (the config file, a user catalog) synchronously, bounded: only a regular
 * file, never more than a limit. A FIFO at the path would block the read for ever, a device (`/dev/zero`)
 * is endless, a multi-GB file must not be read whole into memory. The file is opened with O_NONBLOCK, so a
 * FIFO without a writer is refused at once instead of hanging.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { formatBytes } from './format-bytes.js';

/** What a non-regular file is, for messages. */
export function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

export type BoundedFileRead =
  /** The whole file, as UTF-8. */
  | { readonly text: string }
  /** Why it was not read: "is not a regular file (a FIFO (named pipe))", "is larger than 1 MB (5 GB)", "cannot be read (…)". */
  | { readonly problem: string; readonly cause?: unknown };

/**
 * The whole of the regular file `path` (at most `maxBytes`), or why not; undefined when it does not exist.
 * Never throws for the file's own faults: the caller turns `problem` into its own error code.
 */
export function readBoundedFileSync(path: string, maxBytes: number): BoundedFileRead | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENXIO') return { problem: 'is not a regular file (a socket or device)', cause: error };
    return { problem: `cannot be read (${(error as Error).message})`, cause: error };
  }
  try {
    const info = fstatSync(descriptor);
    if (!info.isFile()) return { problem: `is not a regular file (${fileKind(info)})` };
    if (info.size > maxBytes)
      return {
        problem: `is larger than ${formatBytes(maxBytes)} (${formatBytes(info.size)})`,
      };
    // One byte more than its size: a file that grew since fstat is noticed, not read past the limit.
    const buffer = Buffer.alloc(info.size + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(descriptor, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > info.size) return { problem: 'changed while being read (it grew); try again' };
    return { text: buffer.subarray(0, filled).toString('utf8') };
  } catch (error) {
    return { problem: `cannot be read (${(error as Error).message})`, cause: error };
  } finally {
    closeSync(descriptor);
  }
}

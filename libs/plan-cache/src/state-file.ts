/**
 * Reading nerion's own state files in `.nerion/` (the cache, its lock): never through a symbolic link, never
 * blocking on a FIFO, never more than a bound. Anything but a small regular file is reported, not read.
 * Synchronous: a cache hit reads one small file, and each asynchronous call would be a round trip through
 * libuv's thread pool (open, stat, read, read, close), which costs a hit more than the reading itself.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Opens with O_NOFOLLOW | O_NONBLOCK and reads a regular file of at most `limit` bytes; otherwise returns why
 * not. Throws the errno error (ENOENT when missing).
 */
export function readStateFile(path: string, limit: number): { text: string } | { reason: string } {
  let descriptor;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return { reason: 'not a regular file (a symbolic link)' };
    throw error;
  }
  try {
    const info = fstatSync(descriptor);
    if (!info.isFile()) return { reason: 'not a regular file' };
    if (info.size > limit) return { reason: `larger than ${limit} bytes` };
    const buffer = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(descriptor, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { text: buffer.subarray(0, filled).toString('utf8') };
  } finally {
    closeSync(descriptor);
  }
}

/** A lock file's content ('' when it is not a small regular file: then it is judged by its age alone). */
export async function readLockFile(path: string): Promise<string> {
  const content = readStateFile(path, 64 * 1024);
  return 'text' in content ? content.text : '';
}

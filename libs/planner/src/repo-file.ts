/**
 * Reading a repository file for a plan (the `-f` target's excerpt in an LLM prompt): only a regular file,
 * never more than asked. A FIFO would block the read for ever, a device could be endless, a directory is
 * not a target; a multi-GB file must not be read whole to take the first few KB.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { NerionError, describeError } from '@nerion/backend-core';

/** What a non-regular file is, for the message. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The first `limit` bytes of the repo-relative `path` as UTF-8 (a character cut at the limit is dropped), or
 * undefined when it does not exist (a plan may create it). The path must already have passed the jail.
 * Throws INVALID_REQUEST when it is not a regular file (the file is opened without blocking, so a FIFO is
 * refused at once) or cannot be read. The reading is synchronous (at most `limit` bytes of one file): the
 * plan-cache hit path calls this, and each asynchronous call would be a thread-pool round trip.
 */
export async function readRepoFileStart(root: string, path: string, limit: number): Promise<string | undefined> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new NerionError(
      'INVALID_REQUEST',
      `The target file ${path} ${why}; name a regular file with -f (or leave -f out).`,
      { data: { path }, ...(cause === undefined ? {} : { cause }) },
    );
  };
  let descriptor;
  try {
    descriptor = openSync(resolve(root, path), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENXIO') return refuse('is not a regular file (a socket or device)', error);
    if (code === 'EISDIR') return refuse('is not a regular file (a directory)', error);
    return refuse(`cannot be read (${describeError(error)})`, error);
  }
  try {
    const info = fstatSync(descriptor);
    if (!info.isFile()) return refuse(`is not a regular file (${kindOf(info)})`);
    const buffer = Buffer.alloc(Math.min(limit, info.size));
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(descriptor, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const text = buffer.subarray(0, filled).toString('utf8');
    // A multi-byte character cut at the limit decodes as U+FFFD at the very end: drop it.
    return filled < info.size ? text.replace(/\uFFFD$/u, '') : text;
  } catch (error) {
    if (NerionError.isInstance(error)) throw error;
    return refuse(`cannot be read (${describeError(error)})`, error);
  } finally {
    closeSync(descriptor);
  }
}

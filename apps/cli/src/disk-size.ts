import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes on disk of a file, or of a folder's files recursively; undefined when it does not exist. */
export function sizeOnDisk(path: string): number | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += sizeOnDisk(join(path, entry)) ?? 0;
  return total;
}

/**
 * What `nerion models ensure` provisioned, recorded in `<cacheDir>/provisioned.json` (written atomically),
 * so later runs find a downloaded GGUF without any environment variable.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ProperLockfile from 'proper-lockfile';
import * as v from 'valibot';
import { NerionError, parseJson, type BackendId } from '@nerion/backend-core';
import type { CatalogFamily } from './catalog-schema.js';
import { diskError } from './disk-error.js';

export const PROVISIONED_FILE_NAME = 'provisioned.json';

/** `<cacheDir>/models/llama.cpp` */
export function ggufDirectory(cacheDir: string): string {
  return join(cacheDir, 'models', 'llama.cpp');
}

/** The default download path of a family's GGUF: `<cacheDir>/models/llama.cpp/<filename>`. */
export function defaultGgufPath(cacheDir: string, filename: string): string {
  return join(ggufDirectory(cacheDir), filename);
}

const RecordSchema = v.object({
  backend: v.picklist(['ollama', 'llama_cpp', 'vllm', 'exllamav2']),
  /** Catalog family id, when the model came from the catalog. */
  family: v.optional(v.string()),
  /** The backend-specific name: GGUF file name, Ollama tag, … */
  name: v.string(),
  path: v.optional(v.string()),
  url: v.optional(v.string()),
  sha256: v.optional(v.string()),
  /** Whether the download was checked against an expected sha256. */
  verified: v.optional(v.boolean()),
  sizeBytes: v.optional(v.number()),
  provisionedAt: v.string(),
});
const FileSchema = v.object({ version: v.literal(1), records: v.array(RecordSchema) });

export type ProvisionedRecord = v.InferOutput<typeof RecordSchema>;

export function provisionedFilePath(cacheDir: string): string {
  return join(cacheDir, PROVISIONED_FILE_NAME);
}

/** The records in `<cacheDir>/provisioned.json`; none when the file does not exist. A malformed file is a CACHE_ERROR. */
export function readProvisioned(cacheDir: string): ProvisionedRecord[] {
  const file = provisionedFilePath(cacheDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new NerionError('CACHE_ERROR', `Cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
      data: { file },
    });
  }
  const json = parseJson(
    text,
    (error) =>
      new NerionError(
        'CACHE_ERROR',
        `${file} is not valid JSON (${error.message}). Delete it and run \`nerion models ensure\` again.`,
        { fix: { command: ['nerion', 'models', 'ensure'] }, cause: error, data: { file } },
      ),
  );
  const result = v.safeParse(FileSchema, json);
  if (!result.success) {
    throw new NerionError(
      'CACHE_ERROR',
      `${file} is not a nerion provisioning record (${v.getDotPath(result.issues[0]) ?? 'root'}: ${result.issues[0].message}). Delete it and run \`nerion models ensure\` again.`,
      { fix: { command: ['nerion', 'models', 'ensure'] }, data: { file } },
    );
  }
  return result.output.records;
}

/** Adds (or replaces, by backend + name) one record; the file is written to a temporary name and renamed. */
export function recordProvisioned(
  cacheDir: string,
  record: Omit<ProvisionedRecord, 'provisionedAt'> & { provisionedAt?: string },
): ProvisionedRecord {
  const full: ProvisionedRecord = { ...record, provisionedAt: record.provisionedAt ?? new Date().toISOString() };
  const file = provisionedFilePath(cacheDir);
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  let release: (() => void) | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Read, change and write under a lock, so two nerions provisioning different models lose no record.
    release = lockProvisionedFile(file);
    const records = readProvisioned(cacheDir).filter(
      (existing) => !(existing.backend === full.backend && existing.name === full.name),
    );
    records.push(full);
    writeFileSync(temporary, `${JSON.stringify({ version: 1, records }, null, 2)}\n`);
    renameSync(temporary, file);
  } catch (error) {
    // A full or read-only cache disk: no temp file is left, and the user is told what to do.
    rmSync(temporary, { force: true });
    throw diskError(error, `record ${full.path} in ${file}`, dirname(file));
  } finally {
    release?.();
  }
  return full;
}

const LOCK_WAIT_MS = 30_000;

/** `provisioned.json.lock` (proper-lockfile: atomic mkdir, broken when stale), waited for up to 30 s. */
function lockProvisionedFile(file: string): () => void {
  const lockfile = createRequire(import.meta.url)('proper-lockfile') as typeof ProperLockfile;
  const lockPath = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return lockfile.lockSync(file, { realpath: false, lockfilePath: lockPath, stale: 10_000 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED' || Date.now() > deadline) {
        throw new NerionError(
          'CACHE_ERROR',
          `Cannot lock ${file} to record a download (${(error as Error).message}). If no other nerion is running, delete ${lockPath} and run the same command again.`,
          { cause: error, data: { file, lockPath } },
        );
      }
      Atomics.wait(pause, 0, 0, 20); // a short synchronous pause before the next try
    }
  }
}

/**
 * Drops the records whose path is `path` (after `nerion models rm` deleted it), under the same lock and
 * with the same atomic rewrite as recordProvisioned. Returns the records dropped.
 */
export function forgetProvisioned(cacheDir: string, path: string): ProvisionedRecord[] {
  const file = provisionedFilePath(cacheDir);
  if (!existsSync(file)) return [];
  const release = lockProvisionedFile(file);
  try {
    const all = readProvisioned(cacheDir);
    const kept = all.filter((record) => record.path !== path);
    if (kept.length === all.length) return [];
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ version: 1, records: kept }, null, 2)}\n`);
    renameSync(temporary, file);
    return all.filter((record) => record.path === path);
  } finally {
    release();
  }
}

/** The records for one backend (and family, when given) whose file or directory still exists. */
export function findProvisioned(cacheDir: string, backend: BackendId, familyId?: string): ProvisionedRecord[] {
  return readProvisioned(cacheDir).filter(
    (record) =>
      record.backend === backend &&
      (familyId === undefined || record.family === familyId) &&
      (record.path === undefined || existsSync(record.path)),
  );
}

/**
 * The GGUF provisioned for a family: the recorded download when its file still exists, else the file at
 * the default path (`<cacheDir>/models/llama.cpp/<filename>`) when it is there. Undefined when neither.
 */
export function findProvisionedGguf(cacheDir: string, family: CatalogFamily | string): string | undefined {
  const familyId = typeof family === 'string' ? family : family.id;
  const recorded = findProvisioned(cacheDir, 'llama_cpp', familyId).filter(
    (record) => record.path !== undefined && isFile(record.path),
  );
  if (recorded.length > 0) return recorded[recorded.length - 1].path;
  if (typeof family !== 'string' && family.backends.llama_cpp) {
    const path = defaultGgufPath(cacheDir, family.backends.llama_cpp.filename);
    if (isFile(path)) return path;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
      return false;
    throw error;
  }
}

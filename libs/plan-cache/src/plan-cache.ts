/**
 * `.nerion/plan_cache.json`, the store: validated plans under their keys (./plan-cache-key.ts). Writes are
 * atomic (write-file-atomic: temp file, fsync, rename) and serialised across processes by the lock
 * (./plan-cache-lock.ts), under which the file is re-read, merged and rewritten: no lost entries, no torn
 * file. A corrupt file is set aside as `plan_cache.json.corrupt-<timestamp>` and rebuilt. Size is bounded
 * (LRU). A cache hit only reads: the lock and write-file-atomic load on the first write.
 */
import { createHash } from 'node:crypto';
// Synchronous file calls: a hit is one small read, and each asynchronous call would be a round trip through
// libuv's thread pool (and loading node:fs/promises), which costs a hit more than the work; writes are rare.
import { lstatSync, mkdirSync, readlinkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NerionError, describeError } from '@nerion/backend-core';
import { PLAN_CACHE_FORMAT_VERSION } from './plan-cache-key.js';
import { NERION_STATE_DIR } from './repo-fingerprint.js';
import { readStateFile } from './state-file.js';

export const PLAN_CACHE_FILE = 'plan_cache.json';

export interface PlanCacheEntry {
  plan: unknown;
  /** sha-256 of the key and the plan's JSON as stored: a hit serves the plan only when it still matches. */
  digest?: string;
  created_at: number;
  last_used_at: number;
  target?: string;
  instruction?: string;
}
interface CacheFile {
  version: typeof PLAN_CACHE_FORMAT_VERSION;
  entries: Record<string, PlanCacheEntry>;
}

/**
 * Parses the cache file's JSON. Written by hand rather than with valibot (the house style for outside data):
 * this runs on every cache hit, and valibot's import alone is ~10% of a hit's budget. The plans inside are
 * checked by the `validate` setting. Returns the reason when the shape is wrong.
 */
function parseCacheFile(json: unknown): CacheFile | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not an object';
  const { version, entries } = json as { version?: unknown; entries?: unknown };
  if (version !== PLAN_CACHE_FORMAT_VERSION)
    return `version is ${JSON.stringify(version)}, expected ${PLAN_CACHE_FORMAT_VERSION}`;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return 'entries is not an object';
  for (const [key, entry] of Object.entries(entries as Record<string, unknown>)) {
    if (!/^[0-9a-f]{64}$/u.test(key)) return `entry key ${JSON.stringify(key.slice(0, 80))} is not a sha-256 digest`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return `entry ${key.slice(0, 12)} is not an object`;
    const {
      plan,
      digest,
      created_at: created,
      last_used_at: used,
      target,
      instruction,
    } = entry as Record<string, unknown>;
    if (plan === undefined || typeof created !== 'number' || typeof used !== 'number')
      return `entry ${key.slice(0, 12)} lacks plan, created_at or last_used_at`;
    if (
      (target !== undefined && typeof target !== 'string') ||
      (instruction !== undefined && typeof instruction !== 'string')
    )
      return `entry ${key.slice(0, 12)} has a non-string target or instruction`;
    if (digest !== undefined && typeof digest !== 'string') return `entry ${key.slice(0, 12)} has a non-string digest`;
  }
  return json as CacheFile;
}

/**
 * What a hit checks before serving: the key and the whole plan as serialised (metadata included), so an
 * entry edited by hand — even into another valid plan — is not served. (JSON round-trips keep key order.)
 */
function entryDigest(key: string, plan: unknown): string {
  return createHash('sha256')
    .update(`${key}\0${JSON.stringify(plan)}`)
    .digest('hex');
}

export interface PlanCacheSettings {
  /** The repository root; the cache lives in `<root>/.nerion/plan_cache.json`. */
  root: string;
  /** Throws when a plan is not valid. Only plans that pass are stored or served. */
  validate: (plan: unknown) => unknown;
  /** Most entries kept (least recently used evicted first). Default 256. */
  maxEntries?: number;
  /** Most bytes the file may hold. Default 8 MiB. */
  maxBytes?: number;
  /** How long to wait for another process's lock. Default 15 s. */
  lockTimeoutMs?: number;
  /** A lock older than this, or held by a dead process on this host, is broken. Default 30 s. */
  staleLockMs?: number;
  /** A hit refreshes the entry's LRU time only when it is older than this (saves a write per hit). Default 60 s. */
  touchIntervalMs?: number;
  now?: () => number;
  /** Non-fatal events (corrupt file set aside, invalid entry skipped, stale lock broken). */
  onWarning?: (message: string) => void;
}

export interface PlanCacheEntryInfo {
  target?: string;
  instruction?: string;
}

export class PlanCache {
  readonly directory: string;
  readonly file: string;
  readonly lockFile: string;
  private readonly settings: Required<Omit<PlanCacheSettings, 'onWarning'>> & Pick<PlanCacheSettings, 'onWarning'>;

  constructor(settings: PlanCacheSettings) {
    this.settings = {
      maxEntries: 256,
      maxBytes: 8 * 1024 * 1024,
      lockTimeoutMs: 15_000,
      staleLockMs: 30_000,
      touchIntervalMs: 60_000,
      now: () => Date.now(),
      ...settings,
    };
    this.directory = join(settings.root, NERION_STATE_DIR);
    this.file = join(this.directory, PLAN_CACHE_FILE);
    this.lockFile = `${this.file}.lock`;
  }

  /** The validated plan stored under `key`, or undefined. Never calls a model; cheap (one read). */
  async get(key: string): Promise<unknown> {
    this.checkStateDirectory();
    const read = this.read();
    if (read.corrupt) {
      // A lookup never fails for want of a writable disk: the plan is made and the set() that follows says
      // whether it could be cached.
      await this.locked(async () => {
        const again = this.read();
        if (again.corrupt) await this.setAside(again.reason);
      }).catch((error: unknown) => this.warn(`could not set the corrupt cache aside (${describeError(error)}).`));
      return undefined;
    }
    const entry = read.data.entries[key];
    if (!entry) return undefined;
    try {
      this.settings.validate(entry.plan);
    } catch (error) {
      this.warn(`ignoring a cached plan that no longer validates (${describeError(error)}); it will be replaced.`);
      return undefined;
    }
    if (entry.digest !== entryDigest(key, entry.plan)) {
      this.warn(
        `ignoring a cached plan whose digest does not match its content (the entry was edited${entry.digest === undefined ? ', or written by an older nerion' : ''}); it will be replaced.`,
      );
      return undefined;
    }
    if (this.settings.now() - entry.last_used_at > this.settings.touchIntervalMs)
      await this.touch(key).catch((error: unknown) =>
        this.warn(`served, but could not refresh the entry's time (${describeError(error)}).`),
      );
    return entry.plan;
  }

  /** Validates and stores a plan (re-read, merge, evict, atomic write — all under the lock). */
  async set(key: string, plan: unknown, info: PlanCacheEntryInfo = {}): Promise<void> {
    this.settings.validate(plan);
    if (!/^[0-9a-f]{64}$/u.test(key))
      throw new NerionError('CACHE_ERROR', `Plan cache keys are sha-256 hex digests; got "${key.slice(0, 80)}".`);
    await this.update((data) => {
      const now = this.settings.now();
      const previous = data.entries[key];
      data.entries[key] = {
        plan,
        digest: entryDigest(key, plan),
        created_at: previous?.created_at ?? now,
        last_used_at: now,
        ...info,
      };
    });
  }

  /** All entries (for tools and tests). */
  async entries(): Promise<Record<string, PlanCacheEntry>> {
    const read = this.read();
    return read.corrupt ? {} : read.data.entries;
  }

  private async touch(key: string): Promise<void> {
    await this.update((data) => {
      const entry = data.entries[key];
      if (entry) entry.last_used_at = this.settings.now();
    });
  }

  private async update(change: (data: CacheFile) => void): Promise<void> {
    this.checkStateDirectory();
    try {
      await this.makeStateDirectory();
      await this.ensureIgnoreFile();
      await this.locked(async () => {
        const read = this.read();
        if (read.corrupt) await this.setAside(read.reason);
        const data: CacheFile = read.corrupt ? { version: PLAN_CACHE_FORMAT_VERSION, entries: {} } : read.data;
        change(data);
        await this.write(this.evict(data));
      });
    } catch (error) {
      throw cacheError(error, `write the plan cache in ${this.directory}`);
    }
  }

  /** Creates `.nerion` (its parent, the repository root, exists: a plain mkdir reports the real errno). */
  private async makeStateDirectory(): Promise<void> {
    try {
      mkdirSync(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }

  private evict(data: CacheFile): CacheFile {
    const ordered = Object.entries(data.entries).sort(([, left], [, right]) => right.last_used_at - left.last_used_at);
    const kept: CacheFile['entries'] = {};
    let bytes = 64;
    let count = 0;
    for (const [key, entry] of ordered) {
      const size = Buffer.byteLength(JSON.stringify(entry), 'utf8') + 80;
      if (count >= this.settings.maxEntries || bytes + size > this.settings.maxBytes) continue;
      kept[key] = entry;
      bytes += size;
      count += 1;
    }
    return { version: data.version, entries: kept };
  }

  private read(): { corrupt: false; data: CacheFile } | { corrupt: true; reason: string } {
    let text: string;
    try {
      const content = readStateFile(this.file, Math.max(this.settings.maxBytes * 2, 16 * 1024 * 1024));
      if ('reason' in content) return { corrupt: true, reason: content.reason };
      text = content.text;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { corrupt: false, data: { version: PLAN_CACHE_FORMAT_VERSION, entries: {} } };
      throw new NerionError(
        'CACHE_ERROR',
        `Cannot read the plan cache ${this.file} (${describeError(error)}); fix its permissions or run with --no-cache.`,
        { cause: error },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return { corrupt: true, reason: `not JSON: ${describeError(error)}` };
    }
    const parsed = parseCacheFile(json);
    if (typeof parsed === 'string') return { corrupt: true, reason: `unexpected shape: ${parsed}` };
    return { corrupt: false, data: parsed };
  }

  private async setAside(reason: string): Promise<void> {
    const stamp = new Date(this.settings.now()).toISOString().replace(/[:.]/gu, '-');
    let target = `${this.file}.corrupt-${stamp}`;
    if (exists(target)) target = `${target}-${process.pid}`;
    try {
      renameSync(this.file, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new NerionError(
        'CACHE_ERROR',
        `The plan cache ${this.file} is corrupt (${reason}) and could not be set aside (${describeError(error)}); move it away by hand or run with --no-cache.`,
        { cause: error },
      );
    }
    this.warn(`the plan cache was corrupt (${reason}); it was moved to ${target} and will be rebuilt.`);
  }

  private async write(data: CacheFile): Promise<void> {
    const { default: writeFileAtomic } = await import('write-file-atomic');
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(data)}\n`, { encoding: 'utf8', mode: 0o644 });
    } catch (error) {
      // write-file-atomic removes its temp file on failure (a full disk fails the write, a read-only one sooner).
      throw cacheError(error, `write the plan cache ${this.file}`);
    }
  }

  /** Runs `work` holding `plan_cache.json.lock` (see ./plan-cache-lock.ts). */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const { withLock } = await import('./plan-cache-lock.js');
    return withLock(
      {
        lockFile: this.lockFile,
        timeoutMs: this.settings.lockTimeoutMs,
        staleMs: this.settings.staleLockMs,
        now: this.settings.now,
        warn: (message) => this.warn(message),
      },
      work,
    );
  }

  private async ensureIgnoreFile(): Promise<void> {
    const ignore = join(this.directory, '.gitignore');
    if (exists(ignore)) return;
    try {
      writeFileSync(ignore, '# nerion state (plan cache); not meant for version control\n*\n', { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
      // Created but not written (a full disk): an empty .gitignore would let .nerion show in `git status`.
      try {
        unlinkSync(ignore);
      } catch {
        // Best effort: the write's own error is the one reported.
      }
      throw error;
    }
  }

  /**
   * The state folder must be a real folder inside the repository: a `.nerion` that is a symbolic link (or
   * anything but a folder) would put the cache, its lock and `.gitignore` wherever it leads. Refused with
   * PATH_ESCAPE (nothing is read, written or renamed there); a missing folder is fine (it is created).
   */
  private checkStateDirectory(): void {
    let info;
    try {
      // Synchronous, like the read that follows (see ./state-file.ts): a hit makes no thread-pool round trip.
      info = lstatSync(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new NerionError(
        'CACHE_ERROR',
        `Cannot inspect nerion's state folder ${this.directory} (${describeError(error)}); fix its permissions or run with --no-cache.`,
        { cause: error },
      );
    }
    if (info.isDirectory()) return;
    const leadsTo = info.isSymbolicLink()
      ? ` (a symbolic link to ${resolve(this.directory, '..', readlinkSync(this.directory))})`
      : ' (not a folder)';
    throw new NerionError(
      'PATH_ESCAPE',
      `nerion keeps its plan cache in ${this.directory}, which is not a real folder inside the repository${leadsTo}; nerion does not write its state through it. Remove it (\`rm ${this.directory}\`) or run with --no-cache.`,
      {
        data: { path: this.directory, root: this.settings.root },
        fix: { command: ['rm', this.directory] },
      },
    );
  }

  private warn(message: string): void {
    this.settings.onWarning?.(`plan cache: ${message}`);
  }
}

/**
 * A file-system failure as CACHE_ERROR naming what failed, why in words (read-only disk, full disk,
 * permissions) and the fix; a NerionError passes through unchanged.
 */
function cacheError(error: unknown, what: string): NerionError {
  if (NerionError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const fix =
    code === 'EROFS'
      ? 'the disk is read-only: run nerion where it can write, or with --no-cache'
      : code === 'ENOSPC' || code === 'EDQUOT'
        ? 'no space left on that disk: free some space, or run with --no-cache'
        : code === 'EACCES' || code === 'EPERM'
          ? "permission denied: fix the folder's permissions, or run with --no-cache"
          : 'fix the folder, or run with --no-cache';
  return new NerionError('CACHE_ERROR', `Cannot ${what} (${describeError(error)}); ${fix}.`, {
    cause: error,
    data: { ...(code === undefined ? {} : { errno: code }) },
  });
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

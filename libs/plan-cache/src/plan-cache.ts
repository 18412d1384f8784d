/**
 * `.nerion/plan_cache.json`: validated plans keyed by repository state, target, instruction and planner.
 * Writes are atomic (temp file + rename) and serialised across processes by a lock file (O_EXCL, stale-lock
 * detection) under which the file is re-read, merged and rewritten: no lost entries, no torn file.
 * A corrupt file is set aside as `plan_cache.json.corrupt-<timestamp>` and rebuilt. Size is bounded (LRU).
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { lstat, mkdir, open, readFile, rename, stat, unlink, link, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { NerionError, describeError } from '@nerion/backend-core';
import { NERION_STATE_DIR } from './repo-fingerprint.js';

export const PLAN_CACHE_FILE = 'plan_cache.json';
export const PLAN_CACHE_FORMAT_VERSION = 1 as const;

/** Who produced a plan: part of the key, so an LLM request never gets a heuristic plan (and vice versa). */
export type PlannerIdentity =
  /** `rules`: the heuristic planner's rules version — new rules never serve plans cached by older ones. */
  | { kind: 'heuristic'; rules?: number }
  | { kind: 'llm'; backend: string; model: string; strict: boolean; jsonGrammar: boolean };

export interface PlanCacheKeyInput {
  fingerprint: string;
  /** Repo-relative target file, if any. */
  target: string | undefined;
  instruction: string;
  planner: PlannerIdentity;
  /** The plan schema version (a new schema never serves old plans). */
  schemaVersion: number;
}

/** Trims and collapses whitespace; case is kept (renaming `Foo` to `foo` is not renaming `foo` to `foo`). */
export function normaliseInstruction(instruction: string): string {
  return instruction.normalize('NFC').trim().replace(/\s+/gu, ' ');
}

/** `./src//a.ts` → `src/a.ts`; undefined stays undefined. */
export function normaliseTarget(target: string | undefined): string | undefined {
  if (target === undefined || target.trim() === '') return undefined;
  return posix.normalize(target.trim()).replace(/^\.\//u, '');
}

export function computePlanCacheKey(input: PlanCacheKeyInput): string {
  const planner =
    input.planner.kind === 'heuristic'
      ? ['heuristic', ...(input.planner.rules === undefined ? [] : [`rules-v${input.planner.rules}`])]
      : [
          'llm',
          input.planner.backend,
          input.planner.model,
          input.planner.strict ? 'strict' : 'lenient',
          input.planner.jsonGrammar ? 'grammar' : 'free',
        ];
  const parts = [
    `cache-v${PLAN_CACHE_FORMAT_VERSION}`,
    `schema-v${input.schemaVersion}`,
    input.fingerprint,
    normaliseTarget(input.target) ?? '',
    normaliseInstruction(input.instruction),
    ...planner,
  ];
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

export interface PlanCacheEntry {
  plan: unknown;
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
    const { plan, created_at: created, last_used_at: used, target, instruction } = entry as Record<string, unknown>;
    if (plan === undefined || typeof created !== 'number' || typeof used !== 'number')
      return `entry ${key.slice(0, 12)} lacks plan, created_at or last_used_at`;
    if (
      (target !== undefined && typeof target !== 'string') ||
      (instruction !== undefined && typeof instruction !== 'string')
    )
      return `entry ${key.slice(0, 12)} has a non-string target or instruction`;
  }
  return json as CacheFile;
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  async get(key: string): Promise<unknown | undefined> {
    const read = await this.read();
    if (read.corrupt) {
      await this.withLock(async () => {
        const again = await this.read();
        if (again.corrupt) await this.setAside(again.reason);
      });
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
    if (this.settings.now() - entry.last_used_at > this.settings.touchIntervalMs) await this.touch(key);
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
      data.entries[key] = { plan, created_at: previous?.created_at ?? now, last_used_at: now, ...info };
    });
  }

  /** All entries (for tools and tests). */
  async entries(): Promise<Record<string, PlanCacheEntry>> {
    const read = await this.read();
    return read.corrupt ? {} : read.data.entries;
  }

  private async touch(key: string): Promise<void> {
    await this.update((data) => {
      const entry = data.entries[key];
      if (entry) entry.last_used_at = this.settings.now();
    });
  }

  private async update(change: (data: CacheFile) => void): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await this.ensureIgnoreFile();
    await this.withLock(async () => {
      const read = await this.read();
      if (read.corrupt) await this.setAside(read.reason);
      const data: CacheFile = read.corrupt ? { version: PLAN_CACHE_FORMAT_VERSION, entries: {} } : read.data;
      change(data);
      await this.write(this.evict(data));
    });
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

  private async read(): Promise<{ corrupt: false; data: CacheFile } | { corrupt: true; reason: string }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
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
    if (await exists(target)) target = `${target}-${process.pid}`;
    try {
      await rename(this.file, target);
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
    const temporary = `${this.file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(data)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, this.file);
    } catch (error) {
      await unlink(temporary).catch((cleanupError: unknown) =>
        this.warn(`could not remove ${temporary}: ${describeError(cleanupError)}`),
      );
      throw new NerionError(
        'CACHE_ERROR',
        `Cannot write the plan cache ${this.file} (${describeError(error)}); fix the folder's permissions or run with --no-cache.`,
        { cause: error },
      );
    }
  }

  private async ensureIgnoreFile(): Promise<void> {
    const ignore = join(this.directory, '.gitignore');
    if (await exists(ignore)) return;
    await writeFile(ignore, '# nerion state (plan cache); not meant for version control\n*\n', { flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  }

  /** Runs `work` holding `plan_cache.json.lock` (created with O_EXCL); breaks stale locks. */
  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.directory, { recursive: true });
    const token = `${hostname()}:${process.pid}:${randomBytes(8).toString('hex')}`;
    const started = this.settings.now();
    let delay = 2;
    for (;;) {
      try {
        const handle = await open(this.lockFile, 'wx', 0o644);
        try {
          await handle.writeFile(JSON.stringify({ token, pid: process.pid, host: hostname(), created: Date.now() }));
        } finally {
          await handle.close();
        }
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new NerionError(
            'CACHE_ERROR',
            `Cannot create the plan cache lock ${this.lockFile} (${describeError(error)}); fix the folder's permissions or run with --no-cache.`,
            { cause: error },
          );
        }
      }
      if (await this.breakIfStale()) continue;
      if (this.settings.now() - started > this.settings.lockTimeoutMs) {
        throw new NerionError(
          'CACHE_ERROR',
          `Timed out after ${this.settings.lockTimeoutMs} ms waiting for the plan cache lock ${this.lockFile}; another nerion process holds it. Retry, delete the lock if no nerion is running, or use --no-cache.`,
          {
            data: { lockFile: this.lockFile },
          },
        );
      }
      await sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 50);
    }
    try {
      return await work();
    } finally {
      await this.releaseLock(token);
    }
  }

  private async releaseLock(token: string): Promise<void> {
    const held = await readFile(this.lockFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (held === undefined || !held.includes(token)) {
      this.warn(
        `the plan cache lock was taken from this process (it was considered stale); the cache file is still whole.`,
      );
      return;
    }
    await unlink(this.lockFile);
  }

  /** True when a stale lock was removed (then the caller retries at once). */
  private async breakIfStale(): Promise<boolean> {
    let content: string;
    let modified: number;
    try {
      content = await readFile(this.lockFile, 'utf8');
      modified = (await stat(this.lockFile)).mtimeMs;
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
    if (!deadOwner && age < this.settings.staleLockMs) return false;
    if (owner.token === undefined && age < this.settings.staleLockMs) return false;
    // Move the lock aside atomically, then make sure it was the one judged stale (not a fresh one).
    const aside = `${this.lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(this.lockFile, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    const moved = await readFile(aside, 'utf8');
    if (moved !== content) {
      // A fresh lock replaced the stale one in between: put it back if nobody holds the name now.
      await link(aside, this.lockFile).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await unlink(aside);
      return false;
    }
    await unlink(aside);
    this.warn(
      `broke a stale plan cache lock (${deadOwner ? `process ${owner.pid} is gone` : `${Math.round(age / 1000)} s old`}).`,
    );
    return true;
  }

  private warn(message: string): void {
    this.settings.onWarning?.(`plan cache: ${message}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * A bounded, read-only view of a repository for the heuristic planner: the target file, the other source
 * files (to see who references a symbol), the test layout and package.json. Everything stays inside the
 * jail: paths are checked with checkRepoRelativePath and, on disk, with assertPathsInsideRepo (symlinks
 * resolved); the file walk never follows a symbolic link. Reads are bounded by file count and bytes.
 */
import { lstatSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join, posix } from 'node:path';
import { NerionError } from '@nerion/backend-core';
import { assertPathsInsideRepo, checkRepoRelativePath, normaliseRepoPath } from './repo-path.js';
import { loadSourceParser, sourceLanguageOf, type ParsedSource, type SourceParser } from './source/index.js';

export interface RepositorySettings {
  /** Absolute path of the repository root. */
  root: string;
  /** Source files listed at most (default 2000); past it the listing is marked `truncated`. */
  maxFiles?: number;
  /** Bytes read from one file at most (default 512 KiB); a larger file is treated as unreadable. */
  maxFileBytes?: number;
  /** Bytes read from all files together at most (default 16 MiB). */
  maxTotalBytes?: number;
}

export const DEFAULT_REPOSITORY_LIMITS = { maxFiles: 2000, maxFileBytes: 512 * 1024, maxTotalBytes: 16 * 1024 * 1024 };

/** Folders never walked (besides every folder whose name starts with a dot). */
export const SKIPPED_DIRECTORIES = new Set([
  'node_modules',
  'dist',
  'build',
  'out',
  'coverage',
  '__pycache__',
  'venv',
  'env',
  'site-packages',
  'target',
]);

export interface RepositoryView {
  readonly root: string;
  /** The file's text, or undefined when it is missing, not a regular file or over the byte bounds. */
  read(path: string): string | undefined;
  /** The parsed file (cached), or undefined when unreadable or not Python/TypeScript/JavaScript. */
  parse(path: string): ParsedSource | undefined;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** Python/TypeScript/JavaScript files, repo-relative, sorted, bounded by maxFiles. */
  sourceFiles(): readonly string[];
  /** True when the walk stopped at maxFiles or maxTotalBytes ran out. */
  readonly truncated: boolean;
  /** The root package.json, parsed, if there is one. */
  packageJson(): Record<string, unknown> | undefined;
  /** The parser the view uses (also for instruction snippets such as a quoted `import x`). */
  readonly parser: SourceParser;
}

/** Opens a view of the repository at `settings.root` (loads the source parsers once per process). */
export async function openRepository(settings: RepositorySettings): Promise<RepositoryView> {
  const parser = await loadSourceParser();
  return new FileRepository(settings, parser);
}

class FileRepository implements RepositoryView {
  readonly root: string;
  private readonly limits: Required<Omit<RepositorySettings, 'root'>>;
  private readonly texts = new Map<string, string | undefined>();
  private readonly parsed = new Map<string, ParsedSource | undefined>();
  private listing: string[] | undefined;
  private bytesRead = 0;
  private truncatedValue = false;
  private packageJsonValue: Record<string, unknown> | undefined | null = null;

  constructor(
    settings: RepositorySettings,
    readonly parser: SourceParser,
  ) {
    this.root = settings.root;
    this.limits = {
      maxFiles: settings.maxFiles ?? DEFAULT_REPOSITORY_LIMITS.maxFiles,
      maxFileBytes: settings.maxFileBytes ?? DEFAULT_REPOSITORY_LIMITS.maxFileBytes,
      maxTotalBytes: settings.maxTotalBytes ?? DEFAULT_REPOSITORY_LIMITS.maxTotalBytes,
    };
  }

  get truncated(): boolean {
    return this.truncatedValue;
  }

  private absolute(path: string): string | undefined {
    if (checkRepoRelativePath(path) !== undefined) return undefined;
    const normal = normaliseRepoPath(path);
    // Throws PATH_ESCAPE for a path that leads outside through a symlink: never read it.
    assertPathsInsideRepo(this.root, [normal]);
    return join(this.root, normal);
  }

  read(path: string): string | undefined {
    const key = checkRepoRelativePath(path) === undefined ? normaliseRepoPath(path) : path;
    if (this.texts.has(key)) return this.texts.get(key);
    let text: string | undefined;
    const absolute = this.absolute(key);
    if (absolute !== undefined) {
      try {
        const stat = statSync(absolute);
        const budget = this.limits.maxTotalBytes - this.bytesRead;
        if (stat.size > budget) this.truncatedValue = true;
        if (stat.isFile() && stat.size <= this.limits.maxFileBytes && stat.size <= budget) {
          text = readFileSync(absolute, 'utf8');
          this.bytesRead += stat.size;
        }
      } catch (error) {
        if (!isMissing(error)) throw readError(key, error);
      }
    }
    this.texts.set(key, text);
    return text;
  }

  parse(path: string): ParsedSource | undefined {
    const key = checkRepoRelativePath(path) === undefined ? normaliseRepoPath(path) : path;
    if (this.parsed.has(key)) return this.parsed.get(key);
    const text = sourceLanguageOf(key) === undefined ? undefined : this.read(key);
    const source = text === undefined ? undefined : this.parser.parse(key, text);
    this.parsed.set(key, source);
    return source;
  }

  exists(path: string): boolean {
    const absolute = this.absolute(path);
    if (absolute === undefined) return false;
    try {
      lstatSync(absolute);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw readError(path, error);
    }
  }

  isDirectory(path: string): boolean {
    const absolute = this.absolute(path);
    if (absolute === undefined) return false;
    try {
      return lstatSync(absolute).isDirectory();
    } catch (error) {
      if (isMissing(error)) return false;
      throw readError(path, error);
    }
  }

  sourceFiles(): readonly string[] {
    if (this.listing) return this.listing;
    const files: string[] = [];
    // Breadth-first, names sorted: a deterministic listing that reaches shallow files first.
    const queue: string[] = [''];
    while (queue.length > 0 && !this.truncatedValue) {
      const directory = queue.shift()!;
      let entries: Dirent[];
      try {
        entries = readdirSync(join(this.root, directory), { withFileTypes: true });
      } catch (error) {
        if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EACCES') continue;
        throw readError(directory || '.', error);
      }
      entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
      for (const entry of entries) {
        const path = directory ? posix.join(directory, entry.name) : entry.name;
        if (entry.isDirectory()) {
          if (!entry.name.startsWith('.') && !SKIPPED_DIRECTORIES.has(entry.name)) queue.push(path);
        } else if (entry.isFile() && sourceLanguageOf(entry.name) !== undefined && !entry.name.endsWith('.d.ts')) {
          if (files.length >= this.limits.maxFiles) {
            this.truncatedValue = true;
            break;
          }
          files.push(path);
        }
      }
    }
    this.listing = files.sort();
    return this.listing;
  }

  packageJson(): Record<string, unknown> | undefined {
    if (this.packageJsonValue !== null) return this.packageJsonValue;
    const text = this.read('package.json');
    let value: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = text === undefined ? undefined : JSON.parse(text);
      value =
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined;
    } catch {
      value = undefined;
    }
    this.packageJsonValue = value;
    return value;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function readError(path: string, error: unknown): NerionError {
  return new NerionError('INVALID_REQUEST', `Cannot read ${path} in the repository (${(error as Error).message}).`, {
    cause: error,
    data: { path },
  });
}

/**
 * The repository fingerprint: HEAD plus the content of every uncommitted and untracked file (respecting
 * .gitignore, `.nerion/` excluded), from one `git status --porcelain=v2 -z --branch --untracked-files=all`.
 * Contents are hashed, never mtimes. A folder that is not a git work tree hashes the contents of its files.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { NerionError } from '@nerion/backend-core';

export interface FingerprintSettings {
  /** The git executable (default `git`; run with an argument array, no shell). */
  git?: string;
}

export interface RepoFingerprint {
  /** sha-256 (hex) over HEAD and the dirty files' contents. */
  fingerprint: string;
  kind: 'git' | 'folder';
  /** The commit HEAD points at (undefined before the first commit, or in a plain folder). */
  head: string | undefined;
  /** How many dirty/untracked (git) or total (folder) files went into the hash. */
  files: number;
}

/** The folder nerion keeps its state in; always excluded from fingerprints. */
export const NERION_STATE_DIR = '.nerion';

/** The nearest ancestor of `start` (itself included) holding a `.git` entry; `start` when there is none. */
export function findRepoRoot(start: string): { root: string; git: boolean } {
  for (let directory = start; ; directory = dirname(directory)) {
    if (existsSync(join(directory, '.git'))) return { root: directory, git: true };
    if (dirname(directory) === directory) return { root: start, git: false };
  }
}

/**
 * Runs git and returns its stdout. spawnSync, not spawn: measured on a plan-cache hit, an asynchronous child
 * (a ChildProcess, two pipe streams, an exit event) costs ~6 ms more CPU and more wake-ups than one
 * synchronous call, and the hit has nothing to do meanwhile. Output is not capped (a repository may have many
 * untracked files), as before.
 */
function runGit(root: string, args: readonly string[], settings: FingerprintSettings): Buffer {
  const git = settings.git ?? 'git';
  const result = spawnSync(git, ['--no-optional-locks', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: Infinity,
  });
  if (result.error)
    throw new NerionError(
      'CACHE_ERROR',
      `Could not run \`${git}\` to fingerprint ${root} (${result.error.message}); install git, or run with --no-cache.`,
      { cause: result.error },
    );
  if (result.status !== 0)
    throw new NerionError(
      'CACHE_ERROR',
      `\`${git} ${args.join(' ')}\` failed in ${root} (exit ${result.status}): ${result.stderr.toString().trim()}; run with --no-cache to skip the plan cache.`,
      { data: { root, status: result.status } },
    );
  return result.stdout;
}

function excluded(path: string): boolean {
  return path === NERION_STATE_DIR || path.startsWith(`${NERION_STATE_DIR}/`);
}

/** Bytes read at a time when hashing a file's content (memory per file being hashed). */
const HASH_CHUNK_BYTES = 256 * 1024;

/**
 * What the fingerprint records about one path: its kind and content (a link's target; a regular file's size
 * and the sha-256 of its bytes, read in chunks so a file of any size costs bounded memory). The file is
 * opened without following links and without blocking (a FIFO that replaced a file is recorded, not read).
 * Synchronous: the files are read one after the other either way, and a plan-cache hit (within 2x of
 * `node -e 0`) cannot afford a thread-pool round trip per call.
 */
function describeEntry(root: string, path: string): Buffer[] {
  const absolute = join(root, path);
  let info;
  try {
    info = lstatSync(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [Buffer.from('missing\0')];
    throw error;
  }
  if (info.isSymbolicLink()) return [Buffer.from(`link\0${readlinkSync(absolute)}\0`)];
  if (info.isFile()) {
    const content = hashRegularFile(absolute);
    if (content !== undefined) return [Buffer.from(`file\0${content.size}\0${content.sha256}\0`)];
  }
  return [Buffer.from(`other\0${info.isDirectory() ? 'dir' : 'special'}\0`)];
}

/** Size and sha-256 of a regular file, read in chunks; undefined when the path is no longer a regular file. */
function hashRegularFile(path: string): { size: number; sha256: string } | undefined {
  let descriptor;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    if (!fstatSync(descriptor).isFile()) return undefined;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    let size = 0;
    for (;;) {
      const bytesRead = readSync(descriptor, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(descriptor);
  }
}

/** Hashes the entries in their given order. */
function hashEntries(
  root: string,
  entries: readonly { path: string; prefix: string }[],
  hash: ReturnType<typeof createHash>,
): void {
  for (const entry of entries) {
    hash.update(entry.prefix);
    for (const part of describeEntry(root, entry.path)) hash.update(part);
  }
}

/** Fingerprints a git work tree (root = its top level) or, when `git` is false, a plain folder. */
export async function fingerprintRepository(
  root: string,
  git: boolean,
  settings: FingerprintSettings = {},
): Promise<RepoFingerprint> {
  return git ? fingerprintGit(root, settings) : fingerprintFolder(root);
}

async function fingerprintGit(root: string, settings: FingerprintSettings): Promise<RepoFingerprint> {
  const output = runGit(
    root,
    // --no-ahead-behind: the `# branch.ab` line is not part of the fingerprint (only `# branch.oid` is), and
    // counting the commits between a branch and a distant upstream can cost git more than the rest of the status.
    [
      'status',
      '--porcelain=v2',
      '-z',
      '--branch',
      '--no-ahead-behind',
      '--untracked-files=all',
      '--no-renames',
      '--ignore-submodules=none',
    ],
    settings,
  );
  const records = output.toString('utf8').split('\0');
  let head: string | undefined;
  const dirty: { path: string; record: string }[] = [];
  for (const record of records) {
    if (record.length === 0) continue;
    if (record.startsWith('# branch.oid ')) {
      const oid = record.slice('# branch.oid '.length);
      head = oid === '(initial)' ? undefined : oid;
      continue;
    }
    if (record.startsWith('#')) continue;
    let path: string;
    if (record.startsWith('1 ')) path = record.split(' ').slice(8).join(' ');
    else if (record.startsWith('u ')) path = record.split(' ').slice(10).join(' ');
    else if (record.startsWith('? ')) path = record.slice(2);
    else continue; // '2 ' (renames) cannot occur with --no-renames; '!' (ignored) is not requested
    if (excluded(path)) continue;
    dirty.push({ path, record });
  }
  dirty.sort((left, right) => (left.path < right.path ? -1 : left.path > right.path ? 1 : 0));
  const hash = createHash('sha256').update(`git\0${head ?? '(initial)'}\0`);
  hashEntries(
    root,
    dirty.map(({ path, record }) => ({ path, prefix: `${record}\0` })),
    hash,
  );
  return { fingerprint: hash.digest('hex'), kind: 'git', head, files: dirty.length };
}

async function fingerprintFolder(root: string): Promise<RepoFingerprint> {
  const files: string[] = [];
  const walk = (relative: string): void => {
    const entries = readdirSync(relative ? join(root, relative) : root, { withFileTypes: true });
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (excluded(path) || entry.name === '.git' || entry.name === 'node_modules') continue;
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk('');
  files.sort();
  const hash = createHash('sha256').update('folder\0');
  hashEntries(
    root,
    files.map((path) => ({ path, prefix: `${path}\0` })),
    hash,
  );
  return { fingerprint: hash.digest('hex'), kind: 'folder', head: undefined, files: files.length };
}

import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git } from '@nerion/test-support';
import { findRepoRoot, fingerprintRepository } from './repo-fingerprint.js';

jest.setTimeout(300_000);

describe('repository fingerprint', () => {
  let repo: string;
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'nerion-fp-'));
    git(repo, 'init', '-q');
    mkdirSync(join(repo, 'src'));
    writeFileSync(join(repo, 'src', 'a.py'), 'x = 1\n');
    writeFileSync(join(repo, '.gitignore'), 'build/\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const fingerprint = async () => (await fingerprintRepository(repo, true)).fingerprint;

  it('finds the repository root from a subfolder, and reports HEAD', async () => {
    expect(findRepoRoot(join(repo, 'src'))).toEqual({ root: repo, git: true });
    const result = await fingerprintRepository(repo, true);
    expect(result.kind).toBe('git');
    expect(result.head).toMatch(/^[0-9a-f]{40}$/u);
    expect(result.files).toBe(0);
  });

  it('changes with the content of modified and untracked files, not with their mtimes', async () => {
    const clean = await fingerprint();
    writeFileSync(join(repo, 'src', 'a.py'), 'x = 2\n');
    const modified = await fingerprint();
    expect(modified).not.toBe(clean);
    writeFileSync(join(repo, 'src', 'a.py'), 'x = 3\n');
    expect(await fingerprint()).not.toBe(modified);
    writeFileSync(join(repo, 'src', 'a.py'), 'x = 1\n');
    utimesSync(join(repo, 'src', 'a.py'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await fingerprint()).toBe(clean);
    writeFileSync(join(repo, 'src', 'new.py'), 'y = 1\n');
    const untracked = await fingerprint();
    expect(untracked).not.toBe(clean);
    writeFileSync(join(repo, 'src', 'new.py'), 'y = 2\n');
    expect(await fingerprint()).not.toBe(untracked);
  });

  it("ignores .gitignored files and nerion's own .nerion/ folder", async () => {
    const clean = await fingerprint();
    mkdirSync(join(repo, 'build'));
    writeFileSync(join(repo, 'build', 'out.js'), 'ignored');
    mkdirSync(join(repo, '.nerion'));
    writeFileSync(join(repo, '.nerion', 'plan_cache.json'), '{}');
    expect(await fingerprint()).toBe(clean);
  });

  it('changes with HEAD (a new commit)', async () => {
    const before = await fingerprint();
    writeFileSync(join(repo, 'src', 'b.py'), 'z = 1\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'second');
    expect(await fingerprint()).not.toBe(before);
  });

  it('changes with a staged change, a deletion and a file that only changes mode, and not with an upstream far behind', async () => {
    const seen = new Set([await fingerprint()]);
    const changed = async () => {
      const value = await fingerprint();
      expect(seen.has(value)).toBe(false);
      seen.add(value);
    };
    writeFileSync(join(repo, 'src', 'a.py'), 'x = 2\n');
    await changed();
    git(repo, 'add', 'src/a.py'); // same content, now staged: another status record
    await changed();
    git(repo, 'reset', '-q', '--hard');
    git(repo, 'rm', '-q', '--cached', 'src/a.py'); // deleted from the index, still on disk (untracked)
    await changed();
    git(repo, 'reset', '-q', '--hard');
    rmSync(join(repo, 'src', 'a.py')); // deleted from the work tree
    await changed();
    git(repo, 'reset', '-q', '--hard');
    expect(seen.has(await fingerprint())).toBe(true); // back to the first state
    git(repo, 'update-index', '--chmod=+x', 'src/a.py');
    await changed();
    git(repo, 'reset', '-q', '--hard');
    // An upstream many commits behind changes what `git status --branch` could count (ahead/behind), not the
    // repository's state: the fingerprint stays (nerion asks git not to count them).
    const clean = await fingerprint();
    const upstream = mkdtempSync(join(tmpdir(), 'nerion-fp-upstream-'));
    try {
      git(upstream, 'init', '-q', '--bare');
      git(repo, 'remote', 'add', 'origin', upstream);
      git(repo, 'push', '-q', '-u', 'origin', 'HEAD');
      for (let index = 0; index < 3; index += 1) git(repo, 'commit', '-q', '--allow-empty', '-m', `c${index}`);
      const ahead = await fingerprint();
      expect(ahead).not.toBe(clean); // HEAD moved
      git(repo, 'push', '-q', 'origin', 'HEAD');
      expect(await fingerprint()).toBe(ahead);
    } finally {
      rmSync(upstream, { recursive: true, force: true });
    }
  });

  it('sees every untracked file when git reports more than 1 MiB (spawnSync caps output at 1 MiB unless told)', async () => {
    mkdirSync(join(repo, 'many'));
    const count = 5000;
    for (let index = 0; index < count; index += 1)
      writeFileSync(join(repo, 'many', `${String(index).padStart(5, '0')}-${'n'.repeat(230)}.txt`), `${index}\n`);
    const result = await fingerprintRepository(repo, true);
    expect(result.files).toBe(count);
    writeFileSync(join(repo, 'many', `04999-${'n'.repeat(230)}.txt`), 'changed\n');
    expect((await fingerprintRepository(repo, true)).fingerprint).not.toBe(result.fingerprint);
  });

  it('works before the first commit, and with file names that need quoting', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'nerion-fp-fresh-'));
    try {
      git(fresh, 'init', '-q');
      writeFileSync(join(fresh, 'we ird "name".py'), 'a\n');
      const first = await fingerprintRepository(fresh, true);
      expect(first.head).toBeUndefined();
      expect(first.files).toBe(1);
      writeFileSync(join(fresh, 'we ird "name".py'), 'b\n');
      expect((await fingerprintRepository(fresh, true)).fingerprint).not.toBe(first.fingerprint);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('hashes the contents of a plain folder (not a git work tree), .nerion/ excluded', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'nerion-fp-folder-'));
    try {
      writeFileSync(join(folder, 'a.py'), 'a\n');
      const first = await fingerprintRepository(folder, false);
      expect(first).toMatchObject({ kind: 'folder', files: 1 });
      mkdirSync(join(folder, '.nerion'));
      writeFileSync(join(folder, '.nerion', 'plan_cache.json'), '{}');
      expect((await fingerprintRepository(folder, false)).fingerprint).toBe(first.fingerprint);
      writeFileSync(join(folder, 'a.py'), 'b\n');
      expect((await fingerprintRepository(folder, false)).fingerprint).not.toBe(first.fingerprint);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('says what to do when git cannot run', async () => {
    await expect(fingerprintRepository(repo, true, { git: 'git-that-does-not-exist' })).rejects.toMatchObject({
      code: 'CACHE_ERROR',
      message: expect.stringContaining('--no-cache'),
    });
  });
});

describe('repository fingerprint of large files (issue #12 case 8)', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  let repo: string;
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'nerion-fp-large-'));
    git(repo, 'init', '-q');
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  /** Fingerprints `root` in a child process (the built package) and reports its peak RSS. */
  function fingerprintInChild(root: string, git: boolean): { fingerprint: string; maxRssMiB: number } {
    const script = `
      const { fingerprintRepository } = await import(${JSON.stringify(dist)});
      const result = await fingerprintRepository(${JSON.stringify(root)}, ${git});
      process.stdout.write(JSON.stringify({ fingerprint: result.fingerprint, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`fingerprint child failed (${child.status}): ${child.stderr}`);
    return JSON.parse(child.stdout) as { fingerprint: string; maxRssMiB: number };
  }

  it('hashes a 2.25 GiB untracked (sparse) file in bounded memory (reading it whole failed past 2 GiB)', () => {
    expect(existsSync(dist)).toBe(true); // built by `npm test` (node tools/scripts/build.mjs)
    const baseline = fingerprintInChild(repo, true).maxRssMiB; // the same child on the small repository
    truncateSync(openAndClose(join(repo, 'big.bin')), 2.25 * 1024 ** 3);
    expect(fingerprintInChild(repo, true).maxRssMiB).toBeLessThan(baseline + 100);
  });

  it('hashes a 1 GiB file in a plain folder in bounded memory, and still sees a one-byte change deep inside', () => {
    const folder = mkdtempSync(join(tmpdir(), 'nerion-fp-folder-'));
    try {
      const big = join(folder, 'big.bin');
      writeFileSync(big, 'small\n');
      const baseline = fingerprintInChild(folder, false).maxRssMiB;
      truncateSync(big, 1024 ** 3);
      const first = fingerprintInChild(folder, false);
      expect(first.maxRssMiB).toBeLessThan(baseline + 100);
      const handle = openSync(big, 'r+');
      writeSync(handle, 'x', 900 * 1024 ** 2);
      closeSync(handle);
      expect(fingerprintInChild(folder, false).fingerprint).not.toBe(first.fingerprint);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

function openAndClose(path: string): string {
  closeSync(openSync(path, 'w'));
  return path;
}

import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openRepository } from './repository.js';
import { findSymbol } from './source/index.js';

const roots: string[] = [];
function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nerion-repo-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('openRepository (the planner’s bounded view of a repository)', () => {
  it('lists source files sorted, skipping node_modules, dist, dot folders and declaration files', async () => {
    const root = repo({
      'src/a.ts': 'export const a = 1;\n',
      'src/b.d.ts': 'export declare const b: number;\n',
      'app/x.py': 'x = 1\n',
      'README.md': '# r\n',
      'node_modules/p/index.js': 'x\n',
      'dist/a.js': 'x\n',
      '.venv/lib/site.py': 'x\n',
      '.git/hooks/h.js': 'x\n',
    });
    const view = await openRepository({ root });
    expect(view.sourceFiles()).toEqual(['app/x.py', 'src/a.ts']);
    expect(view.truncated).toBe(false);
    expect(view.read('README.md')).toBe('# r\n');
    expect(view.read('missing.py')).toBeUndefined();
    expect(findSymbol(view.parse('src/a.ts')!, 'a')?.exported).toBe(true);
    expect(view.isDirectory('src')).toBe(true);
    expect(view.exists('src/a.ts')).toBe(true);
  });

  it('stops at maxFiles and maxFileBytes, and says the listing was truncated', async () => {
    const root = repo({
      'a.py': 'a = 1\n',
      'b.py': 'b = 2\n',
      'c.py': 'c = 3\n',
      'big.py': `x = "${'y'.repeat(200)}"\n`,
    });
    const view = await openRepository({ root, maxFiles: 2, maxFileBytes: 100 });
    expect(view.sourceFiles()).toHaveLength(2);
    expect(view.truncated).toBe(true);
    expect(view.read('big.py')).toBeUndefined();
    expect(view.read('a.py')).toBe('a = 1\n');
  });

  it('stops reading when maxTotalBytes is spent', async () => {
    const root = repo({ 'a.py': 'a = 1\n', 'b.py': 'b = 2\n' });
    const view = await openRepository({ root, maxTotalBytes: 8 });
    expect(view.read('a.py')).toBe('a = 1\n');
    expect(view.read('b.py')).toBeUndefined();
    expect(view.truncated).toBe(true);
  });

  it('never reads through a symbolic link that leaves the repository, nor lists one', async () => {
    const outside = repo({ 'secret.py': 'token = "x"\n' });
    const root = repo({ 'src/a.py': 'a = 1\n' });
    symlinkSync(join(outside, 'secret.py'), join(root, 'src/link.py'));
    symlinkSync(outside, join(root, 'linked'));
    const view = await openRepository({ root });
    expect(view.sourceFiles()).toEqual(['src/a.py']);
    expect(() => view.read('src/link.py')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
    expect(() => view.read('linked/secret.py')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
    expect(view.read('../escape.py')).toBeUndefined();
  });

  it('reads package.json, and none when it is missing or not an object', async () => {
    expect((await openRepository({ root: repo({ 'package.json': '{"type":"module"}' }) })).packageJson()).toEqual({
      type: 'module',
    });
    expect((await openRepository({ root: repo({ 'package.json': '[1]' }) })).packageJson()).toBeUndefined();
    expect((await openRepository({ root: repo({ 'a.py': '' }) })).packageJson()).toBeUndefined();
  });
});

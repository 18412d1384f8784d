import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readProvisioned } from './provisioned.js';

describe('recordProvisioned from two processes at once', () => {
  it('loses no record: 2 real processes × 40 records each end with all 80 in provisioned.json', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-prov-race-'));
    // The built package, as another nerion process would load it.
    const entry = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js')).href;
    const script = (tag: string): string =>
      `const { recordProvisioned } = await import(${JSON.stringify(entry)});
       for (let i = 0; i < 40; i += 1)
         recordProvisioned(${JSON.stringify(cacheDir)}, { backend: 'llama_cpp', name: '${tag}-' + i + '.gguf' });`;
    const run = (tag: string): Promise<number | null> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script(tag)], { stdio: 'inherit' });
        child.once('error', reject);
        child.once('exit', resolve);
      });
    try {
      expect(await Promise.all([run('a'), run('b')])).toEqual([0, 0]);
      const names = readProvisioned(cacheDir).map((record) => record.name);
      expect(names).toHaveLength(80);
      expect(new Set(names).size).toBe(80);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 60_000);
});

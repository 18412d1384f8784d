import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { benchFiguresPath, readBenchFigures, writeBenchFigures } from './bench-figures.js';

let cacheDir: string;
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'nerion-bench-figures-'));
});
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('the bench-figures file (<cacheDir>/bench/last.json)', () => {
  it('is empty before any bench run, without a warning', () => {
    const warnings: string[] = [];
    expect(readBenchFigures(cacheDir, (message) => warnings.push(message))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('round-trips, keeping the latest figure per backend/model, and leaves no temp file', () => {
    writeBenchFigures(cacheDir, [
      { backend: 'ollama', model: 'a', latencySeconds: 2 },
      { backend: 'vllm', model: 'a', latencySeconds: 1 },
    ]);
    writeBenchFigures(cacheDir, [{ backend: 'ollama', model: 'a', latencySeconds: 0.5 }]);
    expect(readBenchFigures(cacheDir)).toEqual([
      { backend: 'ollama', model: 'a', latencySeconds: 0.5 },
      { backend: 'vllm', model: 'a', latencySeconds: 1 },
    ]);
    expect(readdirSync(dirname(benchFiguresPath(cacheDir)))).toEqual(['last.json']);
    expect(JSON.parse(readFileSync(benchFiguresPath(cacheDir), 'utf8')).updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('skips malformed entries one by one', () => {
    mkdirSync(dirname(benchFiguresPath(cacheDir)), { recursive: true });
    writeFileSync(
      benchFiguresPath(cacheDir),
      JSON.stringify({
        figures: [
          { backend: 'ollama', model: 'ok', latencySeconds: 1 },
          { backend: 'ollama', model: 'zero', latencySeconds: 0 },
          { backend: '', model: 'x', latencySeconds: 1 },
          { backend: 'vllm', model: 3, latencySeconds: 1 },
          'text',
        ],
      }),
    );
    expect(readBenchFigures(cacheDir)).toEqual([{ backend: 'ollama', model: 'ok', latencySeconds: 1 }]);
  });

  it('ignores a corrupt file with one warning that names the fix', () => {
    mkdirSync(dirname(benchFiguresPath(cacheDir)), { recursive: true });
    for (const text of ['{not json', '{"figures": 3}']) {
      writeFileSync(benchFiguresPath(cacheDir), text);
      const warnings: string[] = [];
      expect(readBenchFigures(cacheDir, (message) => warnings.push(message))).toEqual([]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('nerion models bench');
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultExllamaDir, hasExllamaModel } from './provisioned.js';

describe('hasExllamaModel', () => {
  it('needs both config.json and a .safetensors file', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-exl-'));
    try {
      const directory = defaultExllamaDir(cacheDir, 'qwen2.5-coder');
      expect(directory).toBe(join(cacheDir, 'models', 'exl', 'qwen2.5-coder'));
      expect(hasExllamaModel(directory)).toBe(false);
      mkdirSync(directory, { recursive: true });
      writeFileSync(join(directory, 'README.md'), 'partial download');
      expect(hasExllamaModel(directory)).toBe(false);
      writeFileSync(join(directory, 'config.json'), '{}');
      expect(hasExllamaModel(directory)).toBe(false);
      writeFileSync(join(directory, 'output.safetensors'), '');
      expect(hasExllamaModel(directory)).toBe(true);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

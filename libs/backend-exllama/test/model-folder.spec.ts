import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureExllamaModel, exllamaModelDir, hasExllamaModel } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'nerion-exl-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('exllamaModelDir (the one exllamav2 folder layout)', () => {
  it('is <cacheDir>/models/exl/<name>, the name kept as one safe path segment', () => {
    expect(exllamaModelDir('/cache', 'qwen2.5-coder')).toBe('/cache/models/exl/qwen2.5-coder');
    expect(exllamaModelDir('/cache', 'org/model:6.5bpw')).toBe('/cache/models/exl/org_model_6.5bpw');
    expect(exllamaModelDir('/cache', '../../etc')).toBe('/cache/models/exl/.._.._etc');
  });
});

describe('hasExllamaModel', () => {
  it('needs config.json and at least one .safetensors file', () => {
    const directory = exllamaModelDir(root, 'starcoder2');
    expect(hasExllamaModel(directory)).toBe(false);
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, 'config.json'), '{}');
    expect(hasExllamaModel(directory)).toBe(false);
    writeFileSync(join(directory, 'model.safetensors'), '');
    expect(hasExllamaModel(directory)).toBe(true);
  });
});

describe('ensureExllamaModel', () => {
  it('gives the download of the repo/revision into the folder, and EXLLAMA_MODEL_DIR; present once the folder holds a model', () => {
    const modelDir = exllamaModelDir(root, 'qwen2.5-coder');
    const options = {
      model: 'qwen2.5-coder',
      displayName: 'Qwen2.5 Coder',
      repo: 'bartowski/Qwen2.5-Coder-7B-Instruct-exl2',
      revision: '6_5',
      modelDir,
    };
    const missing = ensureExllamaModel(options);
    expect(missing.status).toBe('instructions');
    expect(missing.commands).toEqual([
      ['hf', 'download', 'bartowski/Qwen2.5-Coder-7B-Instruct-exl2', '--revision', '6_5', '--local-dir', modelDir],
    ]);
    expect(missing.env).toEqual({
      NERION_CODER_BACKEND: 'exllamav2',
      NERION_CODER_MODEL: 'qwen2.5-coder',
      EXLLAMA_MODEL_DIR: modelDir,
    });
    expect(missing.lines[1]).toBe(
      `hf download bartowski/Qwen2.5-Coder-7B-Instruct-exl2 --revision 6_5 --local-dir ${modelDir}`,
    );
    mkdirSync(modelDir, { recursive: true });
    writeFileSync(join(modelDir, 'config.json'), '{}');
    writeFileSync(join(modelDir, 'model.safetensors'), '');
    expect(ensureExllamaModel(options).status).toBe('present');
  });
});

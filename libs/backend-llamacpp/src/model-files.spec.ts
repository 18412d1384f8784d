import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { NerionError } from '@nerion/backend-core';
import { fixturePaths } from '../../../tools/fixtures/fixture-paths.mjs';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaCppBackend, type LlamaCppBackendSettings } from './index.js';

// The preset's testTimeout does not reach projects run from the root config; a cold llama.cpp start on a
// busy 2-core machine can take seconds.
jest.setTimeout(60_000);

const fixtures = fixturePaths();
const request = { messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 4 };

async function failure(
  settings: Partial<LlamaCppBackendSettings> & { modelPath: string | undefined },
): Promise<{ error: NerionError; reason: string | undefined }> {
  const backend = createLlamaCppBackend({ model: 'broken', threads: 1, ...settings });
  try {
    const probe = await backend.probe();
    expect(probe.available).toBe(false);
    let caught: unknown;
    await backend.generate(request).catch((error: unknown) => {
      caught = error;
    });
    expect(NerionError.isInstance(caught)).toBe(true);
    return { error: caught as NerionError, reason: probe.reason };
  } finally {
    await backend.close();
  }
}

describe('llama_cpp on bad model files (real node-llama-cpp, files in a temp dir)', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'nerion-llamacpp-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('no path configured: MODEL_NOT_FOUND telling how to set one', async () => {
    const { error, reason } = await failure({ modelPath: undefined });
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain('LLAMA_CPP_MODEL_PATH');
    expect(error.message).toContain('nerion models ensure --backend llama_cpp --model broken');
    expect(reason).toBe(error.message);
  });

  it('a missing file: MODEL_NOT_FOUND naming the file', async () => {
    const path = join(directory, 'absent.gguf');
    const { error } = await failure({ modelPath: path });
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain(path);
  });

  it('a directory: MODEL_NOT_FOUND asking for the .gguf file itself', async () => {
    const path = join(directory, 'a-dir');
    mkdirSync(path);
    const { error } = await failure({ modelPath: path });
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain(`${path} is a directory`);
  });

  it('a file that is not GGUF (text, an LFS pointer, empty): MODEL_LOAD_FAILED saying what it looks like', async () => {
    const text = join(directory, 'notes.gguf');
    writeFileSync(text, 'hello, I am not a model\n');
    const lfs = join(directory, 'pointer.gguf');
    writeFileSync(lfs, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    const empty = join(directory, 'empty.gguf');
    writeFileSync(empty, '');
    const results = await Promise.all([
      failure({ modelPath: text }),
      failure({ modelPath: lfs }),
      failure({ modelPath: empty }),
    ]);
    for (const { error } of results) {
      expect(error.code).toBe('MODEL_LOAD_FAILED');
      expect(error.message).toContain('is not a GGUF file');
    }
    expect(results[0]!.error.message).toContain(text);
    expect(results[1]!.error.message).toContain('Git LFS pointer');
    expect(results[2]!.error.message).toContain('empty');
  });

  it('a truncated file (header cut, or weights cut): MODEL_LOAD_FAILED naming the file and re-download', async () => {
    const bytes = readFileSync(fixtures.tinyLlama);
    const headerCut = join(directory, 'header-cut.gguf');
    writeFileSync(headerCut, bytes.subarray(0, 200));
    const weightsCut = join(directory, 'weights-cut.gguf');
    writeFileSync(weightsCut, bytes.subarray(0, Math.floor(bytes.length * 0.9)));
    for (const path of [headerCut, weightsCut]) {
      const { error, reason } = await failure({ modelPath: path });
      expect(error.code).toBe('MODEL_LOAD_FAILED');
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/truncated/);
      expect(error.message).toContain('nerion models ensure');
      if (path === headerCut) expect(reason).toContain(path);
    }
  });

  it('a model larger than the memory it may use: MODEL_LOAD_FAILED with the sizes and the fix', async () => {
    const { error } = await failure({ modelPath: fixtures.tinyLlama, memoryLimitBytes: 64 * 1024 });
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toContain(fixtures.tinyLlama);
    expect(error.message).toMatch(/needs about .* of memory but this process can use 65\.5 KB/);
    expect(error.message).toContain('smaller quantisation');
  });

  it('stays healthy: after every failure a good file generates, and a file fixed in place loads on the next call', async () => {
    const path = join(directory, 'fixed-later.gguf');
    writeFileSync(path, 'not yet');
    const backend = createLlamaCppBackend({ model: 'later', modelPath: path, threads: 1 });
    try {
      await expect(backend.generate(request)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
      copyFileSync(fixtures.tinyLlama, path);
      const result = await backend.generate(request);
      expect(['stop', 'length']).toContain(result.finishReason);
      expect((await backend.probe()).available).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('rejects invalid settings with CONFIG_INVALID', () => {
    expect(() => createLlamaCppBackend({ model: 'x', modelPath: fixtures.tinyLlama, threads: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => createLlamaCppBackend({ model: '', modelPath: fixtures.tinyLlama })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { writeTinyGguf } from '../../../tools/fixtures/tiny-gguf.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlamaCppBackend } from './index.js';

jest.setTimeout(60_000);

// The benchmark models (tools/bench/llamacpp-vs-llamabench.mjs) come from the same generator in F16/Q8_0/Q4_0.
describe('fixture generator weight types (real node-llama-cpp)', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'nerion-fixture-types-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  const shape = { embedding: 64, heads: 4, blocks: 2, feedForward: 128, seed: 3 };
  async function greedy(weightType: 'F32' | 'F16' | 'Q8_0' | 'Q4_0') {
    const { path, bytes } = await writeTinyGguf(join(directory, `${weightType}.gguf`), { ...shape, weightType });
    const backend = createLlamaCppBackend({ model: weightType, modelPath: path, threads: 1, gpu: false });
    try {
      const result = await backend.generate({ prompt: 'function add(a, b) {', maxTokens: 12 });
      return { bytes, text: result.text, tokens: result.usage.completionTokens };
    } finally {
      await backend.close();
    }
  }

  it('F16 halves the file and generates the same greedy text as F32; Q8_0 and Q4_0 load and generate', async () => {
    const f32 = await greedy('F32');
    const f16 = await greedy('F16');
    expect(f16.text).toBe(f32.text);
    expect(f16.bytes).toBeLessThan(f32.bytes * 0.6);
    const q8 = await greedy('Q8_0');
    const q4 = await greedy('Q4_0');
    expect(q8.bytes).toBeLessThan(f16.bytes * 0.6);
    expect(q4.bytes).toBeLessThan(q8.bytes * 0.6);
    expect(q8.tokens).toBeGreaterThan(0);
    expect(q4.tokens).toBeGreaterThan(0);
  });

  it('refuses a quantised type whose rows are not whole 32-value blocks', async () => {
    await expect(
      writeTinyGguf(join(directory, 'bad.gguf'), { embedding: 48, heads: 4, feedForward: 64, weightType: 'Q8_0' }),
    ).rejects.toThrow(/divisible by 32/);
  });
});

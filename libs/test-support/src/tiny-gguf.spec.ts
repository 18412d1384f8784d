import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyGguf, fixturePaths, writeTinyGguf } from './index.js';

describe('tiny GGUF fixture generator', () => {
  it('is deterministic for a seed and different across seeds', () => {
    const first = buildTinyGguf({ seed: 1 });
    expect(buildTinyGguf({ seed: 1 }).equals(first)).toBe(true);
    expect(buildTinyGguf({ seed: 2 }).equals(first)).toBe(false);
    expect(first.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(first.readUInt32LE(4)).toBe(3);
  });

  it('writes atomically and reports the real sha256', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-gguf-'));
    try {
      const written = await writeTinyGguf(join(directory, 'model.gguf'));
      const bytes = readFileSync(written.path);
      expect(written.bytes).toBe(bytes.length);
      expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('loads in node-llama-cpp under this Jest setup and generates grammar-constrained JSON', async () => {
    const { getLlama, LlamaCompletion } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false });
    try {
      const model = await llama.loadModel({ modelPath: fixturePaths().tinyLlama });
      expect(model.fileInfo.metadata.general.architecture).toBe('llama');
      expect(model.tokenizer('hello world').length).toBeGreaterThan(0);
      const context = await model.createContext({ contextSize: 512, threads: 1 });
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      const schema = {
        type: 'object',
        properties: { done: { type: 'boolean' }, kind: { enum: ['a', 'b'] } },
        required: ['done', 'kind'],
      } as const;
      const grammar = await llama.createGrammarForJsonSchema(schema);
      const text = await completion.generateCompletion('{"', { grammar, maxTokens: 64 });
      const parsed = grammar.parse(text) as { done: boolean; kind: string };
      expect(typeof parsed.done).toBe('boolean');
      expect(['a', 'b']).toContain(parsed.kind);
    } finally {
      await llama.dispose();
    }
  });
});

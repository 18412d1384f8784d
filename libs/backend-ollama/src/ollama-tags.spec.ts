import { describe, expect, it } from '@jest/globals';
import { normalizeOllamaTag, ollamaModelName, sameOllamaModel } from './ollama-tags.js';

describe('Ollama tags', () => {
  it('normalises Ollama tags to :latest, leaving explicit tags and namespaces alone', () => {
    expect(normalizeOllamaTag('qwen2.5-coder')).toBe('qwen2.5-coder:latest');
    expect(normalizeOllamaTag('qwen2.5-coder:7b')).toBe('qwen2.5-coder:7b');
    expect(normalizeOllamaTag('registry.local:5000/team/coder')).toBe('registry.local:5000/team/coder:latest');
    expect(sameOllamaModel('deepseek-coder-v2', 'deepseek-coder-v2:latest')).toBe(true);
    expect(sameOllamaModel('deepseek-coder-v2:16b', 'deepseek-coder-v2:latest')).toBe(false);
  });

  it('strips an ollama: prefix from a model reference and rejects an empty name', () => {
    expect(ollamaModelName('ollama:qwen2.5-coder:7b')).toBe('qwen2.5-coder:7b');
    expect(ollamaModelName(' qwen2.5-coder ')).toBe('qwen2.5-coder');
    expect(() => ollamaModelName('ollama:')).toThrow('NERION_CODER_MODEL');
  });
});

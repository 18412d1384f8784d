import { describe, expect, it } from '@jest/globals';
import { normalizeBackendId, normalizeOllamaTag, parseModelReference, sameOllamaModel } from './model-reference.js';

describe('model references', () => {
  it('splits a backend prefix only when it names a backend', () => {
    expect(parseModelReference('ollama:deepseek-coder-v2')).toEqual({ backend: 'ollama', model: 'deepseek-coder-v2' });
    expect(parseModelReference('llamacpp:codellama')).toEqual({ backend: 'llama_cpp', model: 'codellama' });
    expect(parseModelReference('exllama:starcoder2')).toEqual({ backend: 'exllamav2', model: 'starcoder2' });
    expect(parseModelReference('qwen2.5-coder:7b')).toEqual({ model: 'qwen2.5-coder:7b' });
    expect(parseModelReference('ollama:qwen2.5-coder:7b')).toEqual({ backend: 'ollama', model: 'qwen2.5-coder:7b' });
  });

  it('rejects empty references with a message that shows the shape', () => {
    expect(() => parseModelReference('  ')).toThrow('NERION_CODER_MODEL');
    expect(() => parseModelReference('vllm:')).toThrow('names a backend but no model');
  });

  it('normalises Ollama tags to :latest, leaving explicit tags and namespaces alone', () => {
    expect(normalizeOllamaTag('qwen2.5-coder')).toBe('qwen2.5-coder:latest');
    expect(normalizeOllamaTag('qwen2.5-coder:7b')).toBe('qwen2.5-coder:7b');
    expect(normalizeOllamaTag('registry.local:5000/team/coder')).toBe('registry.local:5000/team/coder:latest');
    expect(sameOllamaModel('deepseek-coder-v2', 'deepseek-coder-v2:latest')).toBe(true);
    expect(sameOllamaModel('deepseek-coder-v2:16b', 'deepseek-coder-v2:latest')).toBe(false);
  });

  it('knows the backend aliases', () => {
    expect(normalizeBackendId('LLAMA_CPP')).toBe('llama_cpp');
    expect(normalizeBackendId('tgi')).toBeUndefined();
  });
});

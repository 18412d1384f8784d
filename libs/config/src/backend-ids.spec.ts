import { describe, expect, it } from '@jest/globals';
import { normalizeBackendId, parseModelReference } from './backend-ids.js';

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

  it('knows the backend aliases', () => {
    expect(normalizeBackendId('LLAMA_CPP')).toBe('llama_cpp');
    expect(normalizeBackendId('tgi')).toBeUndefined();
  });
});

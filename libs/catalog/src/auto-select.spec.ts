import { describe, expect, it } from '@jest/globals';
import { NerionError } from '@nerion/backend-core';
import { chooseAutoSelection, profileTask, type AutoCandidate } from './auto-select.js';
import { loadCatalog } from './load-catalog.js';

const catalog = loadCatalog();
const family = (id: string) => catalog.families.find((entry) => entry.id === id)!;
const GB = 1e9;
const laptop = { totalBytes: 16 * GB, freeBytes: 10 * GB };

describe('profileTask', () => {
  it('reads the task kind from the wording and the language from the target', () => {
    expect(profileTask({ instruction: 'add unit tests for slugify', targetFile: 'src/text.ts' })).toMatchObject({
      kind: 'test',
      language: 'typescript',
    });
    expect(profileTask({ instruction: 'rename foo to bar', targetFile: 'app/main.py' })).toMatchObject({
      kind: 'edit',
      language: 'python',
    });
    expect(profileTask({ instruction: 'add a function slugify', targetFile: 'x.unknownext' })).toMatchObject({
      kind: 'plan',
    });
    expect(profileTask({ instruction: 'add a function slugify' }).language).toBeUndefined();
  });
});

describe('chooseAutoSelection', () => {
  const candidates: AutoCandidate[] = [
    { backend: 'ollama', family: family('qwen2.5-coder'), model: 'qwen2.5-coder:7b', available: true },
    {
      backend: 'ollama',
      family: family('deepseek-coder-v2'),
      model: 'deepseek-coder-v2:16b',
      available: false,
      reason: 'not pulled',
    },
    { backend: 'llama_cpp', family: family('codellama'), model: 'codellama', available: true },
    {
      backend: 'vllm',
      family: family('starcoder2'),
      model: 'starcoder2',
      available: false,
      reason: 'vLLM is not answering',
    },
  ];

  it('never picks an unavailable combination, and explains its choice', () => {
    const result = chooseAutoSelection({
      candidates,
      task: profileTask({ instruction: 'add a function', targetFile: 'a.ts' }),
      memory: laptop,
    });
    expect(['qwen2.5-coder:7b', 'codellama']).toContain(result.model);
    expect(result.reasons[0]).toContain('auto-selected');
    expect(
      result.considered
        .filter((candidate) => candidate.score === undefined)
        .map((candidate) => candidate.model)
        .sort(),
    ).toEqual(['deepseek-coder-v2:16b', 'starcoder2']);
  });

  it('follows the task: a model strong at the task kind and language wins', () => {
    const python = chooseAutoSelection({
      candidates,
      task: profileTask({ instruction: 'refactor the parser', targetFile: 'parser.py' }),
      memory: laptop,
    });
    expect(python.backend).toBe('ollama'); // qwen2.5-coder lists edit first; codellama does not
  });

  it('excludes in-process models that do not fit in memory, but keeps server-side ones with a penalty', () => {
    const big: AutoCandidate[] = [
      { backend: 'llama_cpp', family: family('deepseek-coder-v2'), model: 'deepseek-coder-v2', available: true },
      { backend: 'ollama', family: family('deepseek-coder-v2'), model: 'deepseek-coder-v2:16b', available: true },
    ];
    const small = { totalBytes: 8 * GB, freeBytes: 4 * GB };
    const result = chooseAutoSelection({ candidates: big, task: profileTask({ instruction: 'x' }), memory: small });
    expect(result.backend).toBe('ollama');
    expect(result.considered.find((candidate) => candidate.backend === 'llama_cpp')?.score).toBeUndefined();
  });

  it('prefers the faster combination when bench figures exist', () => {
    const both: AutoCandidate[] = [
      { backend: 'ollama', family: family('qwen2.5-coder'), model: 'qwen2.5-coder:7b', available: true },
      { backend: 'llama_cpp', family: family('qwen2.5-coder'), model: 'qwen2.5-coder', available: true },
    ];
    const task = profileTask({ instruction: 'add a function' });
    expect(chooseAutoSelection({ candidates: both, task, memory: laptop }).backend).toBe('ollama'); // tie → Ollama
    const bench = [
      { backend: 'ollama' as const, model: 'qwen2.5-coder', latencySeconds: 2.0 },
      { backend: 'llama_cpp' as const, model: 'qwen2.5-coder', latencySeconds: 0.5 },
    ];
    const result = chooseAutoSelection({ candidates: both, task, memory: laptop, bench });
    expect(result.backend).toBe('llama_cpp');
    expect(result.reasons.join(' ')).toContain('measured 0.500 s');
  });

  it('ranks by plan quality when `models bench --task plan` figures exist, over speed', () => {
    const both: AutoCandidate[] = [
      { backend: 'ollama', family: family('qwen2.5-coder'), model: 'qwen2.5-coder:7b', available: true },
      { backend: 'llama_cpp', family: family('qwen2.5-coder'), model: 'qwen2.5-coder', available: true },
    ];
    const task = profileTask({ instruction: 'add a function' });
    const bench = [
      // llama_cpp is 4x faster, but ollama's plans were right far more often.
      {
        backend: 'ollama' as const,
        model: 'qwen2.5-coder',
        latencySeconds: 2.0,
        plan: { valid: 1, right: 0.8, cases: 14 },
      },
      {
        backend: 'llama_cpp' as const,
        model: 'qwen2.5-coder',
        latencySeconds: 0.5,
        plan: { valid: 0.5, right: 0.1, cases: 14 },
      },
    ];
    const result = chooseAutoSelection({ candidates: both, task, memory: laptop, bench });
    expect(result.backend).toBe('ollama');
    expect(result.reasons.join(' ')).toContain('made right plans for 80% (valid: 100%) of 14 planning instructions');
    // Plan figures without a latency figure still rank.
    const planOnly = [
      { backend: 'llama_cpp' as const, model: 'qwen2.5-coder', plan: { valid: 1, right: 0.5, cases: 14 } },
    ];
    expect(chooseAutoSelection({ candidates: both, task, memory: laptop, bench: planOnly }).backend).toBe('llama_cpp');
  });

  it('with nothing available, fails with NOT_AVAILABLE saying how to provision one', () => {
    try {
      chooseAutoSelection({
        candidates: candidates.map((candidate) => ({ ...candidate, available: false })),
        task: profileTask({ instruction: 'x' }),
        memory: laptop,
      });
      throw new Error('expected NOT_AVAILABLE');
    } catch (error) {
      expect(NerionError.hasCode(error, 'NOT_AVAILABLE')).toBe(true);
      expect((error as Error).message).toContain('nerion models ensure --auto');
    }
  });
});

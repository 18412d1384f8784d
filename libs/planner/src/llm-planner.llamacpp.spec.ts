import { afterAll, describe, expect, it, jest } from '@jest/globals';

import { NerionError, type CoderBackend } from '@nerion/backend-core';
import { createLlamaCppBackend } from '@nerion/backend-llamacpp';
import { fixturePaths } from '@nerion/test-support';
import { planWithLlm } from './llm-planner.js';
import { checkPlan } from './plan-validation.js';

jest.setTimeout(120_000);

// The real engine: node-llama-cpp running the project's random-weight tiny GGUF. Such a model never writes a
// valid plan, which is exactly what exercises the fallback and strict paths end to end.
describe('LLM planner on llama.cpp (tiny random-weight GGUF)', () => {
  const backends: CoderBackend[] = [];
  const backend = (): CoderBackend => {
    const created = createLlamaCppBackend({
      model: 'tiny-llama',
      modelPath: fixturePaths().tinyLlama,
      threads: 1,
      contextSize: 8192,
    });
    backends.push(created);
    return created;
  };
  afterAll(async () => {
    for (const created of backends) await created.close();
  });
  const input = {
    instruction: 'add a function slugify to src/text.py',
    targetFile: 'src/text.py',
    targetContent: 'import re\n',
  };

  it('not strict: falls back to the heuristic plan with one warning naming the cause', async () => {
    const outcome = await planWithLlm(input, { backend: backend(), maxTokens: 48 });
    expect(outcome.fromModel).toBe(false);
    expect(outcome.warnings).toHaveLength(1);
    expect(outcome.warnings[0]).toMatch(
      /^warning: the llama_cpp\/tiny-llama plan failed \(\[(INVALID_OUTPUT|PLAN_INVALID)\]/u,
    );
    expect(outcome.plan.metadata.source).toBe('heuristic-fallback');
    expect(checkPlan(outcome.plan).success).toBe(true);
  });

  it('strict with --json-grammar: grammar-constrained decoding, then a non-zero cause (invalid JSON or schema path)', async () => {
    const error = await planWithLlm(input, {
      backend: backend(),
      jsonGrammar: true,
      strict: true,
      maxTokens: 48,
    }).catch((caught: unknown) => caught);
    expect(NerionError.isInstance(error)).toBe(true);
    expect(['INVALID_OUTPUT', 'PLAN_INVALID']).toContain((error as NerionError).code);
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  CODER_BACKEND_SPECIFICATION_VERSION,
  NerionError,
  type CoderBackend,
  type GenerateRequest,
  type GenerateResult,
} from '@nerion/backend-core';
import { buildPlanMessages, excerptOf, extractJson, planWithLlm, requestLlmPlan } from './llm-planner.js';
import { checkPlan } from './plan-validation.js';
import { planDraftJsonSchema } from './plan-json-schema.js';

/**
 * A recorded-response CoderBackend: it answers each generate() call with the next of a fixed list of texts
 * (or throws a given error) and records the requests. These tests are about how the planner handles a model's
 * answer; the real engine path is covered by llm-planner.llamacpp.spec.ts.
 */
function recordedResponseBackend(
  answers: (string | Error)[],
  options: { constrained?: boolean } = {},
): CoderBackend & { requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  return {
    specificationVersion: CODER_BACKEND_SPECIFICATION_VERSION,
    id: 'llama_cpp',
    model: 'recorded',
    supportsConstrainedDecoding: options.constrained ?? false,
    requests,
    async probe() {
      return { available: true };
    },
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      requests.push(request);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('the recorded-response backend ran out of answers');
      if (answer instanceof Error) throw answer;
      return {
        text: answer,
        finishReason: 'stop',
        usage: {},
        timings: { totalMs: 1 },
        model: 'recorded',
        warnings: [],
      };
    },
    stream() {
      throw new Error('not used by the planner');
    },
    async close() {},
  };
}

const GOOD = JSON.stringify({
  actions: [
    {
      kind: 'insert_function',
      payload: {
        path: 'src/text.py',
        language: 'python',
        name: 'slugify',
        code: 'def slugify(text):\n    return text\n',
      },
    },
  ],
});
const input = {
  instruction: 'add a function slugify to src/text.py',
  targetFile: 'src/text.py',
  targetContent: 'import re\n',
};

describe('LLM planner (recorded-response backend)', () => {
  it('prompts with every allowed kind, its payload fields, one example and an excerpt of the target', () => {
    const [system, user] = buildPlanMessages(input);
    for (const kind of ['create_file', 'apply_unified_diff', 'insert_type_alias'])
      expect(system!.content).toContain(`- ${kind}: {`);
    expect(system!.content).toContain('Example ("add a function slugify to src/text.py")');
    expect(system!.content).toContain(
      '- insert_function: {path, language: L, name, code, docstring?, class_name?, after_symbol?, exported?: boolean}',
    );
    expect(user!.content).toContain('Instruction: add a function slugify to src/text.py');
    expect(user!.content).toContain('import re');
    expect(excerptOf('x'.repeat(10_000), 1000).length).toBeLessThan(1100);
  });

  it('turns a valid answer into a validated plan with the planner identity and the target filled in', async () => {
    const backend = recordedResponseBackend([GOOD]);
    const outcome = await planWithLlm(input, { backend, strict: true });
    expect(outcome.fromModel).toBe(true);
    expect(checkPlan(outcome.plan).success).toBe(true);
    expect(outcome.plan.target_file).toBe('src/text.py');
    expect(outcome.plan.metadata).toMatchObject({
      source: 'llm',
      planner: 'llama_cpp/recorded',
      constrained_decoding: false,
    });
    expect(backend.requests[0]!.jsonSchema).toBeUndefined();
    expect(backend.requests[0]!.temperature).toBe(0);
  });

  it('reads JSON out of code fences and surrounding prose', () => {
    expect(extractJson('Here you go:\n```json\n{"a": 1}\n```')).toEqual({ a: 1 });
    expect(extractJson('Sure! {"a": 2} Hope that helps.')).toEqual({ a: 2 });
    expect(() => extractJson('no json here')).toThrow(expect.objectContaining({ code: 'INVALID_OUTPUT' }));
  });

  it('repairs once when decoding was not constrained, telling the model what was wrong', async () => {
    const broken = JSON.stringify({
      actions: [{ kind: 'insert_function', payload: { path: 'src/text.py', language: 'python', name: 'slugify' } }],
    });
    const backend = recordedResponseBackend([broken, GOOD]);
    const outcome = await planWithLlm(input, { backend, strict: true });
    expect(outcome.plan.metadata.repaired).toBe(true);
    expect(backend.requests).toHaveLength(2);
    const repairMessages = backend.requests[1]!.messages!;
    expect(repairMessages.at(-2)).toEqual({ role: 'assistant', content: broken });
    expect(repairMessages.at(-1)!.content).toContain('$.actions[0].payload.code');
  });

  it('strict: a schema violation after the repair fails with PLAN_INVALID and the failing field path', async () => {
    const escape = JSON.stringify({
      actions: [{ kind: 'create_file', payload: { path: '../../etc/cron.d/x', content: 'x' } }],
    });
    const backend = recordedResponseBackend([escape, escape]);
    const error = await requestLlmPlan(input, { backend, strict: true }).catch((caught: unknown) => caught);
    expect(NerionError.hasCode(error, 'PLAN_INVALID')).toBe(true);
    expect((error as NerionError).data.path).toBe('$.actions[0].payload.path');
    expect((error as NerionError).message).toContain('even after one repair attempt');
  });

  it('strict: an answer that is not JSON fails with INVALID_OUTPUT', async () => {
    const backend = recordedResponseBackend(['I would add a function.', 'Still prose.']);
    await expect(planWithLlm(input, { backend, strict: true })).rejects.toMatchObject({ code: 'INVALID_OUTPUT' });
  });

  it('strict: a backend failure keeps its own code (e.g. BACKEND_UNREACHABLE)', async () => {
    const backend = recordedResponseBackend([
      new NerionError(
        'BACKEND_UNREACHABLE',
        'Ollama is not answering at http://localhost:11434 — start it with `ollama serve`',
      ),
    ]);
    await expect(planWithLlm(input, { backend, strict: true })).rejects.toMatchObject({ code: 'BACKEND_UNREACHABLE' });
  });

  it('not strict: falls back to the heuristic plan with the reason and exactly one warning', async () => {
    const backend = recordedResponseBackend(['nope', 'still nope']);
    const outcome = await planWithLlm(input, { backend });
    expect(outcome.fromModel).toBe(false);
    expect(outcome.warnings).toHaveLength(1);
    expect(outcome.warnings[0]).not.toContain('\n');
    expect(outcome.plan.metadata.source).toBe('heuristic-fallback');
    expect(outcome.plan.metadata.fallback_reason).toContain('[INVALID_OUTPUT]');
    expect(outcome.plan.actions[0]).toMatchObject({ kind: 'insert_function', payload: { name: 'slugify' } });
    expect(checkPlan(outcome.plan).success).toBe(true);
  });

  it('with --json-grammar on a backend that constrains decoding: sends the plan JSON Schema and does not repair', async () => {
    const backend = recordedResponseBackend(['{"actions": []}'], { constrained: true });
    await expect(planWithLlm(input, { backend, jsonGrammar: true, strict: true })).rejects.toMatchObject({
      code: 'PLAN_INVALID',
    });
    expect(backend.requests).toHaveLength(1);
    expect(backend.requests[0]!.jsonSchema).toBe(planDraftJsonSchema());
  });

  it('with --json-grammar on a backend that cannot constrain: validates, repairs and says so', async () => {
    const backend = recordedResponseBackend([GOOD]);
    const outcome = await planWithLlm(input, { backend, jsonGrammar: true, strict: true });
    expect(backend.requests[0]!.jsonSchema).toBeUndefined();
    expect(outcome.warnings[0]).toContain('cannot constrain decoding');
  });
});

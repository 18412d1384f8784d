import { describe, expect, it } from '@jest/globals';
import { MAX_INSTRUCTION_LENGTH } from './plan-constants.js';
import { planHeuristically } from './heuristic-planner.js';
import { validatePlan } from './plan-validation.js';

describe('the instruction limit', () => {
  const base = 'add a function slugify to src/text.ts ';
  it('accepts an instruction of exactly the limit (and the plan it makes validates)', () => {
    const plan = planHeuristically({ instruction: base.padEnd(MAX_INSTRUCTION_LENGTH, 'x') });
    expect(() => validatePlan(plan)).not.toThrow();
  });
  it('refuses one character more with INVALID_REQUEST naming the limit and the length (not PLAN_INVALID)', () => {
    expect(() => planHeuristically({ instruction: base.padEnd(MAX_INSTRUCTION_LENGTH + 1, 'x') })).toThrow(
      expect.objectContaining({
        code: 'INVALID_REQUEST',
        message: expect.stringContaining(`${MAX_INSTRUCTION_LENGTH + 1} characters long; the limit is 20000`),
      }),
    );
  });
});

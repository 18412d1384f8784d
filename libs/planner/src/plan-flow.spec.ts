import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NerionError } from '@nerion/backend-core';
import { planHeuristically } from './heuristic-planner.js';
import { runPlanFlow, type PlanFlowCache } from './plan-flow.js';
import type { Plan } from './plan-schema.js';

const root = mkdtempSync(join(tmpdir(), 'nerion-plan-flow-'));
const instruction = 'add a function slugify to src/text.ts';

/** A cache in memory: what was stored, and how often it was read. */
function memoryCache(initial?: unknown): PlanFlowCache & { stored: Plan[]; reads: number } {
  const cache = {
    stored: [] as Plan[],
    reads: 0,
    get: async () => {
      cache.reads += 1;
      return initial;
    },
    set: async (plan: Plan) => {
      cache.stored.push(plan);
    },
  };
  return cache;
}

const unreachable = {
  plannerId: 'ollama/tiny',
  jsonGrammar: false,
  createBackend: async () => {
    throw new NerionError('BACKEND_UNREACHABLE', 'nothing listens on 127.0.0.1:9');
  },
};

describe('runPlanFlow (cache → LLM → fallback → jail → store)', () => {
  it('serves a cached plan without planning, and lookupOnly stops at a miss', async () => {
    const plan = planHeuristically({ instruction });
    const notes: string[] = [];
    await expect(
      runPlanFlow({ root, instruction, cache: memoryCache(plan), note: (m) => notes.push(m) }),
    ).resolves.toEqual({
      plan,
      cached: true,
    });
    const empty = memoryCache();
    await expect(
      runPlanFlow({ root, instruction, cache: empty, lookupOnly: true, note: (m) => notes.push(m) }),
    ).resolves.toBeUndefined();
    expect(empty.stored).toEqual([]);
    expect(notes).toEqual([]);
  });

  it('refuses a cached plan whose paths leave the repository (PATH_ESCAPE)', async () => {
    const plan = planHeuristically({ instruction });
    const escaping = { ...plan, target_file: '../outside.ts' };
    await expect(
      runPlanFlow({ root, instruction, cache: memoryCache(escaping), note: () => undefined }),
    ).rejects.toMatchObject({
      code: 'PATH_ESCAPE',
    });
  });

  it('plans heuristically on a miss and stores the plan', async () => {
    const cache = memoryCache();
    const outcome = await runPlanFlow({ root, instruction, cache, note: () => undefined });
    expect(outcome.cached).toBe(false);
    expect(outcome.plan.metadata.source).toBe('heuristic');
    expect(cache.stored).toEqual([outcome.plan]);
  });

  it('falls back to the heuristic plan with one warning line, and does not store the fallback', async () => {
    const cache = memoryCache();
    const notes: string[] = [];
    const outcome = await runPlanFlow({
      root,
      instruction,
      cache,
      llm: { ...unreachable, strict: false },
      note: (message) => notes.push(message),
    });
    expect(outcome.plan.metadata.source).toBe('heuristic-fallback');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^warning: the ollama\/tiny plan failed \(\[BACKEND_UNREACHABLE\]/);
    expect(cache.stored).toEqual([]);
  });

  it('strict: the LLM failure is thrown, nothing stored', async () => {
    const cache = memoryCache();
    await expect(
      runPlanFlow({ root, instruction, cache, llm: { ...unreachable, strict: true }, note: () => undefined }),
    ).rejects.toMatchObject({ code: 'BACKEND_UNREACHABLE' });
    expect(cache.stored).toEqual([]);
  });
});

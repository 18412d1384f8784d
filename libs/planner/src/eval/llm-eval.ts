/**
 * The LLM planner on the evaluation set: plans one case with a model (strict: no heuristic fallback) and
 * judges it with the same checker as the heuristic planner. `nerion models bench --task plan` runs the
 * cases marked `bench` this way on every backend × model and reports the shares of valid and of right plans.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NerionError, type CoderBackend, type GenerateResult } from '@nerion/backend-core';
import { requestLlmPlan } from '../llm-planner.js';
import { checkPlanAgainst, type PlanOutcome, type PlanVerdict } from './check.js';
import { loadPlanEvalSet, type PlanEvalCase, type PlanEvalSet } from './plan-eval.js';

/** Bytes of a fixture target read for the prompt excerpt (the planner bounds the excerpt itself). */
const TARGET_READ_LIMIT = 256 * 1024;

export interface LlmCaseSettings {
  /** Folder of the fixture repositories (`PlanEvalSet.fixturesDir`). */
  fixturesDir: string;
  /** Constrain decoding by the plan JSON Schema where the backend can. */
  jsonGrammar?: boolean;
  /** Generated-token limit per model call (the planner's default when omitted). */
  maxTokens?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface LlmCaseResult {
  outcome: PlanOutcome;
  /** The model's answer passed the plan schema. */
  valid: boolean;
  verdict: PlanVerdict;
  reason: string;
  /** Every generate() result the planning made (one, or two with a repair). */
  generations: GenerateResult[];
}

/** The fixed planning instructions of `nerion models bench --task plan` (the cases marked `bench`). */
export function planBenchCases(set: PlanEvalSet = loadPlanEvalSet()): PlanEvalCase[] {
  return set.cases.filter((item) => item.bench === true);
}

/**
 * The errors that judge the model's answer (not JSON; not a valid plan). Any other error — unreachable,
 * timeout, a prompt longer than the context — ends the combination: the bench reports it as its row.
 */
const ANSWER_ERRORS: ReadonlySet<string> = new Set(['INVALID_OUTPUT', 'PLAN_INVALID']);

/** Plans `item` with `backend` (no fallback) and checks the plan against the case's expectation. */
export async function planCaseWithLlm(
  backend: CoderBackend,
  item: PlanEvalCase,
  settings: LlmCaseSettings,
): Promise<LlmCaseResult> {
  const generations: GenerateResult[] = [];
  const recording = new Proxy(backend, {
    get(target, property) {
      if (property === 'generate')
        return async (...args: Parameters<CoderBackend['generate']>) => {
          const result = await target.generate(...args);
          generations.push(result);
          return result;
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  // The target: -f, else the first file the instruction names (as `nerion plan` would find it).
  const target = item.file ?? /(?:^|\s)([\w./-]+\.(?:py|ts|tsx|js|mjs))(?=$|[\s,.;:])/u.exec(item.instruction)?.[1];
  let targetContent: string | undefined;
  if (target !== undefined) {
    try {
      targetContent = readFileSync(join(settings.fixturesDir, item.repo, target))
        .subarray(0, TARGET_READ_LIMIT)
        .toString('utf8');
    } catch {
      targetContent = undefined;
    }
  }
  let outcome: PlanOutcome;
  try {
    const { plan } = await requestLlmPlan(
      {
        instruction: item.instruction,
        ...(target === undefined ? {} : { targetFile: target }),
        ...(targetContent === undefined ? {} : { targetContent }),
      },
      {
        backend: recording,
        strict: true,
        ...(settings.jsonGrammar === undefined ? {} : { jsonGrammar: settings.jsonGrammar }),
        ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
        ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
        ...(settings.signal === undefined ? {} : { signal: settings.signal }),
      },
    );
    outcome = { plan };
  } catch (error) {
    if (settings.signal?.aborted || !NerionError.isInstance(error) || !ANSWER_ERRORS.has(error.code)) throw error;
    outcome = { error };
  }
  const { verdict, reason } = checkPlanAgainst(outcome, item.expect);
  return { outcome, valid: 'plan' in outcome, verdict, reason, generations };
}

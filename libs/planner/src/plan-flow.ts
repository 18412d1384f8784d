/**
 * The planning flow, in one place: plan-cache lookup → LLM planner → heuristic fallback (with its one
 * warning line) → repository jail → store. `nerion plan` and its cache-hit fast path both call runPlanFlow.
 *
 * The cache is passed in (PlanFlowCache), so this package does not depend on @nerion/plan-cache: the CLI
 * builds the cache for the repository and key, and the arrows stay one-way (CLI → planner, plan-cache →
 * core). Light to import (`@nerion/planner/flow`): a cache hit loads no valibot and no engine; the
 * planners load on a miss, and the backend is created only when the LLM planner runs.
 */
import { NerionError, type CoderBackend } from '@nerion/backend-core';
import { planPaths } from './plan-content.js';
import { assertPathsInsideRepo } from './repo-path.js';
import type { Plan } from './plan-schema.js';

/** The plan cache for one request (its key already chosen by the caller). */
export interface PlanFlowCache {
  /** The stored plan, checked by the cache, or undefined. */
  get(): Promise<unknown>;
  /** Stores a freshly made plan (validated by the cache). */
  set(plan: Plan): Promise<void>;
}

export interface PlanFlowLlm {
  /** `backend/model`, named in the fallback warning. */
  plannerId: string;
  /** Creates the backend (closed by the flow when planning ends). */
  createBackend(): Promise<CoderBackend>;
  /** The target file's text for the prompt's excerpt, when there is one. */
  readTarget?(): Promise<string | undefined>;
  jsonGrammar: boolean;
  /** NERION_LLM_STRICT: an LLM failure is thrown instead of falling back to the heuristic plan. */
  strict: boolean;
  /** NERION_PLAN_MAX_TOKENS / `plan --max-tokens`; undefined: the planner's default. */
  maxTokens?: number;
  /** `plan --timeout` in ms (each model request); undefined: the planner's default. */
  timeoutMs?: number;
  /** Told as the model generates (a terminal's spinner); see LlmPlannerSettings.onGeneration. */
  onGeneration?: (progress: { tokens: number; elapsedMs: number }) => void;
}

export interface PlanFlowRequest {
  /** The repository root: every path in a served or made plan must stay inside it. */
  root: string;
  instruction: string;
  /** Repo-relative POSIX path of the target file, already jailed by the caller. */
  target?: string;
  /** Plan with a model; undefined for the heuristic planner. */
  llm?: PlanFlowLlm;
  /** Undefined for --no-cache. */
  cache?: PlanFlowCache;
  /** Only look the plan up (the fast path): a miss returns undefined without planning. */
  lookupOnly?: boolean;
  /** Diagnostics for stderr (warnings keep their `warning:` prefix). */
  note(message: string): void;
}

export interface PlanFlowOutcome {
  plan: Plan;
  /** True when the plan came from the cache. */
  cached: boolean;
}

export async function runPlanFlow(
  request: PlanFlowRequest & { lookupOnly: true },
): Promise<PlanFlowOutcome | undefined>;
export async function runPlanFlow(request: PlanFlowRequest): Promise<PlanFlowOutcome>;
export async function runPlanFlow(request: PlanFlowRequest): Promise<PlanFlowOutcome | undefined> {
  const { root } = request;
  const stored = await request.cache?.get();
  if (stored !== undefined) {
    const plan = stored as Plan;
    assertPathsInsideRepo(root, planPaths(plan));
    return { plan, cached: true };
  }
  if (request.lookupOnly) return undefined;

  const planner = await import('./planners.js');
  const input = {
    instruction: request.instruction,
    ...(request.target === undefined ? {} : { targetFile: request.target }),
  };
  // The heuristic planner (and the LLM path's fallback) reads the target and the repository, bounded.
  const repository = await planner.openRepository({ root });
  let plan: Plan;
  const llm = request.llm;
  if (!llm) {
    plan = planner.planHeuristically(input, repository);
    assertPathsInsideRepo(root, planPaths(plan));
  } else {
    let backend: CoderBackend | undefined;
    try {
      const targetContent = await llm.readTarget?.();
      backend = await llm.createBackend();
      const outcome = await planner.planWithLlm(
        { ...input, ...(targetContent === undefined ? {} : { targetContent }) },
        {
          backend,
          jsonGrammar: llm.jsonGrammar,
          strict: true,
          ...(llm.maxTokens === undefined ? {} : { maxTokens: llm.maxTokens }),
          ...(llm.timeoutMs === undefined ? {} : { timeoutMs: llm.timeoutMs }),
          ...(llm.onGeneration ? { onGeneration: llm.onGeneration } : {}),
        },
      );
      for (const warning of outcome.warnings) request.note(`warning: ${warning}`);
      assertPathsInsideRepo(root, planPaths(outcome.plan));
      plan = outcome.plan;
    } catch (error) {
      if (llm.strict || NerionError.hasCode(error, 'ABORTED')) throw error;
      const fallback = planner.fallbackPlan(input, llm.plannerId, error, repository);
      for (const warning of fallback.warnings) request.note(warning);
      plan = fallback.plan;
      assertPathsInsideRepo(root, planPaths(plan));
    } finally {
      await backend?.close();
    }
  }
  // A fallback is not cached under the LLM identity: the next run tries the model again.
  if (request.cache && plan.metadata.source !== 'heuristic-fallback') await request.cache.set(plan);
  return { plan, cached: false };
}

// The planners runPlanFlow loads on a cache miss (valibot comes with them).
export { planHeuristically } from './heuristic-planner.js';
export { fallbackPlan, planWithLlm } from './llm-planner.js';
export { openRepository } from './repository.js';

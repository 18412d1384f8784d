export { HEURISTIC_RULES_VERSION } from './plan-constants.js';
export {
  ACTION_KINDS,
  ACTION_SCHEMAS,
  ActionSchema,
  ConditionSchema,
  LANGUAGES,
  MAX_INSTRUCTION_LENGTH,
  MAX_PLAN_ACTIONS,
  MAX_PLAN_CONTENT_BYTES,
  PLAN_SCHEMA_VERSION,
  PLAN_SOURCES,
  PlanDraftSchema,
  PlanMetadataSchema,
  PlanSchema,
  RepoPathSchema,
  type ActionKind,
  type ActionPayload,
  type Plan,
  type PlanAction,
  type PlanCondition,
  type PlanDraft,
  type PlanLanguage,
  type PlanMetadata,
  type PlanSource,
} from './plan-schema.js';
export {
  canonicalJson,
  checkPlan,
  checkPlanDraft,
  computeBundleId,
  describeIssues,
  finalizePlan,
  planPaths,
  validatePlan,
  type PlanCheck,
  type PlanIssue,
} from './plan-validation.js';
export { verifyStoredPlan } from './plan-content.js';
export { assertPathsInsideRepo, checkRepoRelativePath, diffHeaderPaths, normaliseRepoPath } from './repo-path.js';
export { readRepoFileStart } from './repo-file.js';
export { checkInstructionLength } from './instruction.js';
export { actionJsonSchema, planDraftJsonSchema } from './plan-json-schema.js';
export { HEURISTIC_PLANNER_ID, languageOf, planHeuristically, type HeuristicPlanInput } from './heuristic-planner.js';
export {
  DEFAULT_REPOSITORY_LIMITS,
  openRepository,
  type RepositorySettings,
  type RepositoryView,
  SKIPPED_DIRECTORIES,
} from './repository.js';
export {
  DEFAULT_EXCERPT_CHARS,
  buildPlanMessages,
  excerptOf,
  extractJson,
  fallbackPlan,
  llmPlannerId,
  payloadSignature,
  planWithLlm,
  requestLlmPlan,
  type LlmPlanInput,
  type LlmPlanOutcome,
  type LlmPlannerSettings,
} from './llm-planner.js';
export * as source from './source/index.js';
export {
  runPlanFlow,
  type PlanFlowCache,
  type PlanFlowLlm,
  type PlanFlowOutcome,
  type PlanFlowRequest,
} from './plan-flow.js';
export {
  checkPlanAgainst,
  outcomeAsks,
  type ExpectedAction,
  type PayloadMatcher,
  type PlanExpectation,
  type PlanOutcome,
  type PlanVerdict,
  type PlanVerdictResult,
} from './eval/check.js';
export {
  formatEvalReport,
  loadPlanEvalSet,
  planEvalDir,
  runHeuristicEval,
  summariseEval,
  type PlanEvalCase,
  type PlanEvalReport,
  type PlanEvalResult,
  type PlanEvalSet,
} from './eval/plan-eval.js';
export { planBenchCases, planCaseWithLlm, type LlmCaseResult, type LlmCaseSettings } from './eval/llm-eval.js';

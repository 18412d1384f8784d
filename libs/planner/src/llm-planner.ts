/**
 * The LLM planner: asks any CoderBackend for a plan draft, validates it with the plan schema, repairs once
 * when decoding was not constrained, and — unless strict — falls back to the heuristic plan with the reason.
 */
import {
  NerionError,
  describeError,
  redactSecrets,
  jsonCandidates,
  type ChatMessage,
  type CoderBackend,
  type GenerateRequest,
  type JsonSchema,
  serverText,
  collectStream,
  tokenLimitAdvice,
  type GenerateResult,
  type StreamPart,
} from '@nerion/backend-core';
import { ACTION_KINDS, type ActionKind, type Plan, type PlanDraft, type PlanMetadata } from './plan-schema.js';
import { actionJsonSchema, planDraftJsonSchema } from './plan-json-schema.js';
import { checkPlanDraft, describeIssues, finalizePlan, type PlanIssue } from './plan-validation.js';
import { languageOf, planHeuristically } from './heuristic-planner.js';
import type { RepositoryView } from './repository.js';
import { checkInstructionLength } from './instruction.js';

export interface LlmPlanInput {
  instruction: string;
  /** Repo-relative target file. */
  targetFile?: string;
  /** The target file's current text; the prompt carries a bounded excerpt of it. */
  targetContent?: string;
}

export interface LlmPlannerSettings {
  backend: CoderBackend;
  /** Constrain decoding with the plan JSON Schema on backends that can (`--json-grammar`). */
  jsonGrammar?: boolean;
  /** Surface failures (NERION_LLM_STRICT) instead of falling back to the heuristic plan. */
  strict?: boolean;
  /** Upper bound of generated tokens per call (default 1536). */
  maxTokens?: number;
  /** Wall-clock limit per model call (default 120 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Characters of the target file the prompt may carry (default 6000). */
  excerptChars?: number;
  /** The repository view the heuristic fallback plans with (see `openRepository`). */
  repository?: RepositoryView;
  /**
   * Told as the model generates (for a terminal's spinner): the plan is then streamed (`backend.stream`, the
   * same request) instead of `generate`; the result and the plan are the same.
   */
  onGeneration?: (progress: GenerationProgress) => void;
}

/** How far one model request has got: text pieces received (about one token each) since it started. */
export interface GenerationProgress {
  readonly tokens: number;
  readonly elapsedMs: number;
}

export interface LlmPlanOutcome {
  plan: Plan;
  /** Things the user should see on stderr (at most one line each); a fallback adds exactly one. */
  warnings: string[];
  /** True when the plan came from the model (false after a fallback). */
  fromModel: boolean;
}

export const DEFAULT_EXCERPT_CHARS = 6000;

/** `<backend>/<model>`: the planner identity of an LLM plan. */
export function llmPlannerId(backend: Pick<CoderBackend, 'id' | 'model'>): string {
  return `${backend.id}/${backend.model}`;
}

const EXAMPLE = {
  actions: [
    {
      kind: 'insert_function',
      payload: {
        path: 'src/text.py',
        language: 'python',
        name: 'slugify',
        code: 'def slugify(text):\n    """Join the lower-cased words with hyphens."""\n    return "-".join(text.lower().split())\n',
      },
    },
  ],
  postconditions: [{ kind: 'symbol_exists', path: 'src/text.py', symbol: 'slugify' }],
};

/** The bounded excerpt of the target file the prompt carries: the head, and the tail when it is long. */
export function excerptOf(content: string, limit = DEFAULT_EXCERPT_CHARS): string {
  if (content.length <= limit) return content;
  const head = content.slice(0, Math.floor(limit * 0.7));
  const tail = content.slice(content.length - Math.floor(limit * 0.3));
  return `${head}\n… [${content.length - head.length - tail.length} characters omitted] …\n${tail}`;
}

export function buildPlanMessages(input: LlmPlanInput, excerptChars = DEFAULT_EXCERPT_CHARS): ChatMessage[] {
  const kinds = ACTION_KINDS.map((kind) => `- ${kind}: ${payloadSignature(kind)}`).join('\n');
  const system = [
    'Turn the code-change instruction into a JSON plan. Reply with one JSON object only (no prose, no fences):',
    '{"target_file"?: path, "actions": [{"kind": K, "payload": {…}}, …1-200], "preconditions"?/"postconditions"?: [{"kind": "file_exists"|"file_absent"|"symbol_exists"|"symbol_absent", "path", "symbol"?}]}',
    'Paths are repo-relative with "/", never absolute or "..". Payloads have exactly these fields (? = optional; string unless typed; L = "python"|"typescript"|"javascript"; code = complete source):',
    kinds,
    `Example ("add a function slugify to src/text.py"):\n${JSON.stringify(EXAMPLE)}`,
  ].join('\n\n');
  const language = input.targetFile ? languageOf(input.targetFile) : undefined;
  const user = [
    `Instruction: ${input.instruction}`,
    input.targetFile
      ? `Target file: ${input.targetFile}${language ? ` (${language})` : ''}`
      : 'Target file: not given; choose one from the instruction.',
    input.targetContent === undefined
      ? input.targetFile
        ? 'The target file does not exist yet.'
        : ''
      : `Current content of the target file (excerpt):\n<<<\n${excerptOf(input.targetContent, excerptChars)}\n>>>`,
  ]
    .filter(Boolean)
    .join('\n\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/**
 * A compact rendering of one kind's payload schema for the prompt, derived from the generated JSON Schema:
 * `{path: string, language: "python"|"typescript"|"javascript", docstring?: string, …}` (`?` marks optional).
 */
export function payloadSignature(kind: ActionKind): string {
  const payload = (actionJsonSchema(kind).properties as Record<string, JsonSchema>).payload;
  const required = new Set((payload.required as string[] | undefined) ?? []);
  const fields = Object.entries((payload.properties as Record<string, JsonSchema>) ?? {}).map(([name, schema]) => {
    const type = typeName(schema);
    return `${name}${required.has(name) ? '' : '?'}${type === 'string' ? '' : `: ${type}`}`;
  });
  return `{${fields.join(', ')}}`;
}

function typeName(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) {
    const options = schema.enum.map((option) => JSON.stringify(option)).join('|');
    return options === '"python"|"typescript"|"javascript"' ? 'L' : options;
  }
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.type === 'array') return `${typeName((schema.items as JsonSchema) ?? {})}[]`;
  if (schema.type === 'integer') return 'integer>=1';
  return typeof schema.type === 'string' ? schema.type : 'value';
}

/** Extracts the JSON object from a model's answer (tolerates code fences and text around it). */
export function extractJson(text: string): unknown {
  const trimmed = text.trim();
  let firstError: unknown;
  for (const candidate of jsonCandidates(text)) {
    try {
      return JSON.parse(candidate);
    } catch (error) {
      firstError ??= error;
    }
  }
  throw new NerionError(
    'INVALID_OUTPUT',
    `The model's answer is not JSON (${describeError(firstError ?? 'empty answer')}); it began: ${JSON.stringify(trimmed.slice(0, 120))}. Try --json-grammar, or a larger coder model.`,
    { fix: { settings: ['NERION_JSON_GRAMMAR'] }, cause: firstError, data: { output: text.slice(0, 2000) } },
  );
}

function schemaViolation(issues: PlanIssue[], repaired: boolean): NerionError {
  const first = issues[0];
  return new NerionError(
    'PLAN_INVALID',
    `The model's plan does not match the plan schema${repaired ? ' (even after one repair attempt)' : ''}: ${describeIssues(issues)}. Try --json-grammar, or a larger coder model.`,
    { fix: { settings: ['NERION_JSON_GRAMMAR'] }, data: { path: first?.path, issues: issues.slice(0, 20) } },
  );
}

/** `backend.stream` collected into the GenerateResult `generate` gives, reporting progress as pieces arrive. */
async function streamed(
  backend: CoderBackend,
  request: GenerateRequest,
  onGeneration: (progress: GenerationProgress) => void,
): Promise<GenerateResult> {
  const started = performance.now();
  let tokens = 0;
  async function* counted(): AsyncGenerator<StreamPart> {
    for await (const part of backend.stream(request)) {
      if (part.type === 'text-delta') {
        tokens += 1;
        onGeneration({ tokens, elapsedMs: performance.now() - started });
      }
      yield part;
    }
  }
  return collectStream(counted());
}

/** A JSON error after the model hit its token limit says so, naming --max-tokens / NERION_PLAN_MAX_TOKENS. */
/**
 * A model request cut by its time limit, said in the planner's terms: which model, the limit in seconds, and
 * what raises it (`plan --timeout`), instead of the backend's "did not finish within N ms; raise timeoutMs".
 */
function withTimeoutAdvice(error: unknown, backend: Pick<CoderBackend, 'id' | 'model'>, timeoutMs: number): unknown {
  if (!NerionError.hasCode(error, 'TIMEOUT')) return error;
  const seconds = Number((timeoutMs / 1000).toFixed(1));
  return new NerionError(
    'TIMEOUT',
    `The ${llmPlannerId(backend)} plan did not finish within ${seconds} s (the model request was cut) — raise the limit with --timeout (seconds), lower --max-tokens, or use a faster model.`,
    { cause: error, data: { ...error.data, timeoutMs } },
  );
}

function withTokenLimit(error: unknown, finishReason: string | undefined, request: GenerateRequest): unknown {
  if (finishReason !== 'length' || !NerionError.isInstance(error) || error.message.includes('--max-tokens'))
    return error;
  const advice = tokenLimitAdvice(request.maxTokens ?? 1536);
  return new NerionError(error.code, `${error.message} ${advice.sentence}`, {
    cause: error,
    data: error.data,
    fix: advice.fix,
  });
}

/** Asks the backend for a plan. Throws (with the cause's code) on failure; no fallback here. */
export async function requestLlmPlan(
  input: LlmPlanInput,
  settings: LlmPlannerSettings,
): Promise<{ plan: Plan; warnings: string[] }> {
  const { backend } = settings;
  const warnings: string[] = [];
  const constrained = settings.jsonGrammar === true && backend.supportsConstrainedDecoding;
  if (settings.jsonGrammar === true && !backend.supportsConstrainedDecoding) {
    warnings.push(
      `${backend.id} cannot constrain decoding to a JSON Schema; nerion validates the answer instead (one repair attempt).`,
    );
  }
  const messages = buildPlanMessages(input, settings.excerptChars);
  const base: GenerateRequest = {
    maxTokens: settings.maxTokens ?? 1536,
    temperature: 0,
    timeoutMs: settings.timeoutMs ?? 120_000,
    ...(settings.signal ? { signal: settings.signal } : {}),
    ...(constrained ? { jsonSchema: planDraftJsonSchema() } : {}),
  };

  const attempt = async (
    conversation: ChatMessage[],
  ): Promise<{ text: string; parsed: { ok: true; draft: PlanDraft } | { ok: false; error: NerionError } }> => {
    const request: GenerateRequest = { ...base, messages: conversation };
    let result: GenerateResult;
    try {
      result = settings.onGeneration
        ? await streamed(backend, request, settings.onGeneration)
        : await backend.generate(request);
    } catch (error) {
      throw withTimeoutAdvice(error, backend, base.timeoutMs!);
    }
    let value: unknown;
    try {
      value = result.json !== undefined ? result.json : extractJson(result.text);
    } catch (error) {
      return {
        text: result.text,
        parsed: { ok: false, error: withTokenLimit(error, result.finishReason, base) as NerionError },
      };
    }
    const check = checkPlanDraft(value);
    return {
      text: result.text,
      parsed: check.success
        ? { ok: true, draft: check.value }
        : { ok: false, error: schemaViolation(check.issues, false) },
    };
  };

  let repaired = false;
  let outcome = await attempt(messages);
  if (!outcome.parsed.ok && !constrained) {
    repaired = true;
    const problem = outcome.parsed.error.message;
    outcome = await attempt([
      ...messages,
      { role: 'assistant', content: outcome.text.slice(0, 8000) },
      {
        role: 'user',
        content: `That answer is not a valid plan: ${problem} Reply with the corrected JSON object only.`,
      },
    ]);
  }
  if (!outcome.parsed.ok) {
    const error = outcome.parsed.error;
    if (repaired && error.code === 'PLAN_INVALID')
      throw schemaViolation((error.data.issues as PlanIssue[]) ?? [], true);
    throw error;
  }
  const draft = outcome.parsed.draft;
  if (input.targetFile !== undefined && draft.target_file === undefined) draft.target_file = input.targetFile;
  const metadata: PlanMetadata = {
    source: 'llm',
    instruction: input.instruction.trim().replace(/\s+/gu, ' '),
    planner: llmPlannerId(backend),
    ...(input.targetFile && languageOf(input.targetFile) ? { language: languageOf(input.targetFile) } : {}),
    constrained_decoding: constrained,
    ...(repaired ? { repaired: true } : {}),
  };
  return { plan: finalizePlan(draft, metadata), warnings };
}

/**
 * Plans with the model. Strict: any failure is thrown with its cause (BACKEND_UNREACHABLE, INVALID_OUTPUT,
 * PLAN_INVALID with the failing field's path, …). Not strict: the heuristic plan is returned instead, with
 * `metadata.source: "heuristic-fallback"`, the reason, and exactly one warning line.
 */
export async function planWithLlm(input: LlmPlanInput, settings: LlmPlannerSettings): Promise<LlmPlanOutcome> {
  // A bad request, not a model failure: never replaced by the fallback plan.
  checkInstructionLength(input.instruction);
  try {
    const { plan, warnings } = await requestLlmPlan(input, settings);
    return { plan, warnings, fromModel: true };
  } catch (error) {
    if (settings.strict === true || NerionError.hasCode(error, 'ABORTED')) throw error;
    return fallbackPlan(input, llmPlannerId(settings.backend), error, settings.repository);
  }
}

/**
 * The heuristic plan standing in for a failed LLM plan: `metadata.source: "heuristic-fallback"`, the reason
 * in `metadata.fallback_reason`, and exactly one warning line for stderr. `plannerId` names the LLM planner.
 */
export function fallbackPlan(
  input: LlmPlanInput,
  plannerId: string,
  error: unknown,
  repository?: RepositoryView,
): LlmPlanOutcome {
  // NerionError messages and describeError are already free of URL credentials and query values.
  const reason = NerionError.isInstance(error)
    ? `[${error.code}] ${redactSecrets(error.message)}`
    : describeError(error);
  const heuristic = planHeuristically(
    {
      instruction: input.instruction,
      ...(input.targetFile === undefined ? {} : { targetFile: input.targetFile }),
    },
    repository,
  );
  const metadata: PlanMetadata = {
    ...heuristic.metadata,
    source: 'heuristic-fallback',
    fallback_reason: serverText(reason, 3000),
  };
  const plan = finalizePlan(
    {
      ...(heuristic.target_file === undefined ? {} : { target_file: heuristic.target_file }),
      actions: heuristic.actions,
      ...(heuristic.preconditions ? { preconditions: heuristic.preconditions } : {}),
      ...(heuristic.postconditions ? { postconditions: heuristic.postconditions } : {}),
    },
    metadata,
  );
  const line = `warning: the ${plannerId} plan failed (${serverText(reason.replace(/\s+/gu, ' '), 300)}); using the heuristic plan instead (set NERION_LLM_STRICT=1 to fail instead).`;
  return { plan, warnings: [line], fromModel: false };
}

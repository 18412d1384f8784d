/**
 * Auto-selection (NERION_CODER_AUTO=1): among the backend × model combinations that are available right
 * now, pick the one that suits the task and this machine best. Pure: the CLI probes the backends and
 * passes what it found; nothing here touches the network or the environment.
 */
import { NerionError } from '@nerion/backend-core';
import type { CatalogFamily, CatalogStrength, CatalogBackendId } from './catalog-schema.js';
import type { MachineMemory } from './select-model.js';
import { memoryFit } from './memory-fit.js';

export interface TaskProfile {
  kind: CatalogStrength;
  /** The target file's language, from its extension. */
  language?: string;
  /** Files in the repository, when known; large repositories favour long-context models. */
  repoFileCount?: number;
  /** How the profile was derived, for the reasons shown to the user. */
  evidence: readonly string[];
}

const LANGUAGE_BY_EXTENSION: Readonly<Record<string, string>> = {
  py: 'python',
  pyi: 'python',
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'kotlin',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  php: 'php',
  rb: 'ruby',
  swift: 'swift',
  scala: 'scala',
  sh: 'shell',
  sql: 'sql',
  lua: 'lua',
};

const TASK_WORDS: ReadonlyArray<[CatalogStrength, RegExp]> = [
  ['test', /\b(tests?|specs?|unit[- ]tests?|coverage|ensure_test)\b/i],
  ['explain', /\b(explain|describe|document|summari[sz]e|why)\b/i],
  ['fim', /\b(fill in|infill|fill-in-the-middle|fim)\b/i],
  ['complete', /\b(complete|finish|autocomplete|implement the rest)\b/i],
  ['edit', /\b(rename|refactor|replace|fix|change|update|delete|remove|move|edit)\b/i],
];

/** Derives the task kind and language from the instruction wording, the target file and the repository size. */
export function profileTask(input: {
  instruction: string;
  targetFile?: string;
  repoFileCount?: number;
  defaultKind?: CatalogStrength;
}): TaskProfile {
  const evidence: string[] = [];
  let kind: CatalogStrength = input.defaultKind ?? 'plan';
  for (const [candidate, pattern] of TASK_WORDS) {
    const match = pattern.exec(input.instruction);
    if (match) {
      kind = candidate;
      evidence.push(`the instruction says "${match[0]}" (a ${candidate} task)`);
      break;
    }
  }
  if (evidence.length === 0) evidence.push(`a ${kind} task`);
  const extension = input.targetFile?.split('.').pop()?.toLowerCase();
  const language = extension === undefined ? undefined : LANGUAGE_BY_EXTENSION[extension];
  if (language) evidence.push(`the target is ${language}`);
  if (input.repoFileCount !== undefined) evidence.push(`the repository has ${input.repoFileCount} files`);
  return {
    kind,
    ...(language ? { language } : {}),
    ...(input.repoFileCount !== undefined ? { repoFileCount: input.repoFileCount } : {}),
    evidence,
  };
}

export interface AutoCandidate {
  backend: CatalogBackendId;
  /** The catalog family; undefined for a configured file or model that is not in the catalog. */
  family?: CatalogFamily;
  /** The name the backend serves it under (Ollama tag, vLLM served name, GGUF label …). */
  model: string;
  available: boolean;
  /** Why it is not available (from the probe), or a note. */
  reason?: string;
}

/** Figures from earlier `nerion models bench` runs, when there are any. */
export interface BenchFigure {
  /** Any backend's figures may be recorded; only catalog backends are ranked. */
  backend: string;
  model: string;
  /** Median latency of one request (`nerion models bench`). */
  latencySeconds?: number;
  /** Plan quality (`nerion models bench --task plan`): shares (0..1) of valid and of right plans over `cases`. */
  plan?: { valid: number; right: number; cases: number };
}

export interface AutoSelectInput {
  candidates: readonly AutoCandidate[];
  task: TaskProfile;
  memory: MachineMemory;
  bench?: readonly BenchFigure[];
  /** Memory kept for the OS and other programs. Default 2 GB. */
  reserveGb?: number;
}

export interface ScoredCandidate extends AutoCandidate {
  score?: number;
  notes: readonly string[];
}

export interface AutoSelectResult {
  backend: CatalogBackendId;
  model: string;
  family?: string;
  /** Sentences: why this one, shown on stderr and in --json output. */
  reasons: readonly string[];
  /** Every combination considered, best first, with its score or why it was out. */
  considered: readonly ScoredCandidate[];
}

/** Ties go to the engines that are most robust for serving (Ollama, vLLM), then in-process llama.cpp. */
const BACKEND_TIE_ORDER: readonly CatalogBackendId[] = ['ollama', 'vllm', 'llama_cpp', 'exllamav2'];
/** Backends that load the weights into this machine's memory themselves, where fit is a hard limit. */
const IN_PROCESS: ReadonlySet<CatalogBackendId> = new Set(['llama_cpp', 'exllamav2']);

function scoreCandidate(candidate: AutoCandidate, input: AutoSelectInput): { score?: number; notes: string[] } {
  const notes: string[] = [];
  if (!candidate.available) return { notes: [candidate.reason ?? 'not available'] };
  const family = candidate.family;
  if (!family)
    return { score: 0, notes: ['configured explicitly; not in the catalog, so nothing is known of its strengths'] };
  let score = 0;
  const fit = memoryFit(family.memoryGb, input.memory, input.reserveGb);
  if (!fit.fitsMachine) {
    if (IN_PROCESS.has(candidate.backend))
      return {
        notes: [`needs about ${family.memoryGb} GB; this machine has ${fit.totalGb.toFixed(1)} GB`],
      };
    score -= 30;
    notes.push(`needs about ${family.memoryGb} GB, more than this machine has (the server may still run it elsewhere)`);
  } else {
    notes.push(`fits in memory (${family.memoryGb} GB of ${fit.totalGb.toFixed(1)} GB)`);
    if (fit.fitsFreeMemory) score += 5;
  }
  const strength = family.strengths.indexOf(input.task.kind);
  if (strength !== -1) {
    score += 30 - strength * 5;
    notes.push(`strong at ${input.task.kind} (#${strength + 1} of its strengths)`);
  }
  if (input.task.language) {
    const language = family.languages.indexOf(input.task.language);
    if (language !== -1) {
      score += 20 - Math.min(language, 8);
      notes.push(`knows ${input.task.language}`);
    }
  }
  if ((input.task.repoFileCount ?? 0) > 2000) {
    score += Math.min(10, (family.contextLength / 32768) * 5);
    notes.push(`${family.contextLength}-token context for a large repository`);
  }
  score += Math.min(10, family.parametersB / 2);
  const figures = input.bench ?? [];
  const measured = figures.find(
    (figure) =>
      figure.backend === candidate.backend && (figure.model === candidate.model || figure.model === family.id),
  );
  if (measured?.latencySeconds !== undefined) {
    const fastest = Math.min(...figures.flatMap((figure) => (figure.latencySeconds ? [figure.latencySeconds] : [])));
    score += 20 * (fastest / measured.latencySeconds);
    notes.push(`measured ${measured.latencySeconds.toFixed(3)} s per request in the last bench`);
  }
  if (measured?.plan !== undefined) {
    // The job nerion uses a coder model for: plan quality outweighs strengths, language and speed.
    score += 80 * measured.plan.right + 10 * measured.plan.valid;
    notes.push(
      `made right plans for ${(100 * measured.plan.right).toFixed(0)}% (valid: ${(100 * measured.plan.valid).toFixed(0)}%) of ${measured.plan.cases} planning instructions in the last \`models bench --task plan\``,
    );
  }
  return { score, notes };
}

/**
 * Picks the best available combination. Never picks one that is not available; when none is, throws
 * NOT_AVAILABLE listing why each combination was out and how to provision one.
 */
export function chooseAutoSelection(input: AutoSelectInput): AutoSelectResult {
  const scored: ScoredCandidate[] = input.candidates.map((candidate) => ({
    ...candidate,
    ...scoreCandidate(candidate, input),
  }));
  const ranked = [...scored].sort((left, right) => {
    if (left.score === undefined || right.score === undefined)
      return left.score === undefined ? (right.score === undefined ? 0 : 1) : -1;
    return (
      right.score - left.score || BACKEND_TIE_ORDER.indexOf(left.backend) - BACKEND_TIE_ORDER.indexOf(right.backend)
    );
  });
  const best = ranked[0];
  if (!best || best.score === undefined) {
    const why = scored
      .slice(0, 12)
      .map((candidate) => `${candidate.backend}/${candidate.model}: ${candidate.notes.join('; ')}`);
    throw new NerionError(
      'NOT_AVAILABLE',
      `NERION_CODER_AUTO=1 found no available local model. Provision one with \`nerion models ensure --auto\`, or start a backend (\`nerion doctor\` shows how).${why.length ? ` Considered: ${why.join(' | ')}` : ''}`,
      { fix: { command: ['nerion', 'models', 'ensure', '--auto'] }, data: { considered: scored } },
    );
  }
  const reasons = [
    `auto-selected ${best.backend}/${best.model}${best.family ? ` (${best.family.id})` : ''} for ${input.task.evidence.join(', ')}`,
    ...best.notes,
    `${ranked.filter((candidate) => candidate.score !== undefined).length} of ${scored.length} combinations were available`,
  ];
  return {
    backend: best.backend,
    model: best.model,
    ...(best.family ? { family: best.family.id } : {}),
    reasons,
    considered: ranked,
  };
}

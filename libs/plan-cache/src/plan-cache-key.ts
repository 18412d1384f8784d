/**
 * The plan cache's key: which repository state, target, instruction, planner and plan schema a plan was
 * made for, hashed (sha-256) into the name it is stored under. Pure; no file access.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

/** The cache file's format version; part of every key, so a new format never serves old entries. */
export const PLAN_CACHE_FORMAT_VERSION = 1 as const;

/** Who produced a plan: part of the key, so an LLM request never gets a heuristic plan (and vice versa). */
export type PlannerIdentity =
  /** `rules`: the heuristic planner's rules version — new rules never serve plans cached by older ones. */
  | { kind: 'heuristic'; rules?: number }
  | { kind: 'llm'; backend: string; model: string; strict: boolean; jsonGrammar: boolean };

export interface PlanCacheKeyInput {
  fingerprint: string;
  /** Repo-relative target file, if any. */
  target: string | undefined;
  instruction: string;
  planner: PlannerIdentity;
  /** The plan schema version (a new schema never serves old plans). */
  schemaVersion: number;
}

/** Trims and collapses whitespace; case is kept (renaming `Foo` to `foo` is not renaming `foo` to `foo`). */
export function normaliseInstruction(instruction: string): string {
  return instruction.normalize('NFC').trim().replace(/\s+/gu, ' ');
}

/** `./src//a.ts` → `src/a.ts`; undefined stays undefined. */
export function normaliseTarget(target: string | undefined): string | undefined {
  if (target === undefined || target.trim() === '') return undefined;
  return posix.normalize(target.trim()).replace(/^\.\//u, '');
}

export function computePlanCacheKey(input: PlanCacheKeyInput): string {
  const planner =
    input.planner.kind === 'heuristic'
      ? ['heuristic', ...(input.planner.rules === undefined ? [] : [`rules-v${input.planner.rules}`])]
      : [
          'llm',
          input.planner.backend,
          input.planner.model,
          input.planner.strict ? 'strict' : 'lenient',
          input.planner.jsonGrammar ? 'grammar' : 'free',
        ];
  const parts = [
    `cache-v${PLAN_CACHE_FORMAT_VERSION}`,
    `schema-v${input.schemaVersion}`,
    input.fingerprint,
    normaliseTarget(input.target) ?? '',
    normaliseInstruction(input.instruction),
    ...planner,
  ];
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

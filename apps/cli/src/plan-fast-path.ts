/**
 * `nerion plan` cache hits, served before oclif loads: oclif's import alone costs more than two bare Node
 * start-ups, and a cache hit must stay within 2x of `node -e 0` (issues #7, #11). bin/run.js (CommonJS)
 * loads this module as one pre-built CommonJS file with the workspace code it reaches
 * (dist/plan-fast-path.bundle.cjs) and calls servePlanFromCache() for
 * `plan`; it falls through to oclif whenever that returns false — on a miss, on any flag it does not know,
 * and on any error (the full command then runs and reports it), so it never changes what the user sees.
 * Both call @nerion/planner's runPlanFlow (here with lookupOnly). No inference engine, valibot or oclif is
 * imported here; the planner's flow module and plan-cache are light.
 */
import { writeSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { NerionError, terminalSafe } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import type { PlannerIdentity } from '@nerion/plan-cache';
import type { PlanFlowCache, PlanFlowOutcome } from '@nerion/planner/flow';
import { loadNerionConfig } from './environment.js';
import { readInstruction, type InstructionSource } from './instruction-input.js';

export interface PlanArguments {
  instruction: string;
  file: string | undefined;
  llm: boolean;
  jsonGrammar: boolean;
  backend: string | undefined;
  model: string | undefined;
  cache: boolean;
  /** `--max-tokens` (NERION_PLAN_MAX_TOKENS); the fast path never sees it (any other flag leaves the fast path). */
  maxTokens?: number;
}

type ValueFlag = 'instruction' | 'instructionFile' | 'file' | 'backend' | 'model';
const VALUE_FLAGS: Readonly<Record<string, ValueFlag>> = {
  '-i': 'instruction',
  '--instruction': 'instruction',
  '--instruction-file': 'instructionFile',
  '-f': 'file',
  '--file': 'file',
  '--backend': 'backend',
  '--model': 'model',
};

/**
 * The plain forms of `nerion plan`'s flags; undefined for anything else (oclif then parses it). The
 * instruction is where to read it from (see readInstruction).
 */
export function parsePlanArguments(
  argv: readonly string[],
): (Omit<PlanArguments, 'instruction'> & InstructionSource) | undefined {
  const values: Partial<Record<ValueFlag, string>> = {};
  const result = { llm: false, jsonGrammar: false, cache: true };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    const equals = argument.startsWith('--') ? argument.indexOf('=') : -1;
    const name = equals > 0 ? argument.slice(0, equals) : argument;
    const valueFlag = VALUE_FLAGS[name];
    if (valueFlag) {
      if (values[valueFlag] !== undefined) return undefined;
      const value = equals > 0 ? argument.slice(equals + 1) : argv[++index];
      if (value === undefined || (equals < 0 && value.startsWith('-') && value !== '-')) return undefined;
      values[valueFlag] = value;
    } else if (argument === '--llm') result.llm = true;
    else if (argument === '--json-grammar') result.jsonGrammar = true;
    else if (argument === '--no-cache') result.cache = false;
    // The plan is one JSON document either way; --json only changes how failures print (oclif's path).
    else if (argument === '--json') continue;
    else if (argument === '--cache') result.cache = true;
    else return undefined;
  }
  if ((values.instruction === undefined) === (values.instructionFile === undefined)) return undefined;
  return {
    instruction: values.instruction,
    instructionFile: values.instructionFile,
    file: values.file,
    backend: values.backend,
    model: values.model,
    ...result,
  };
}

/** The config flags `nerion plan` passes to the resolver. */
export function planConfigFlags(args: Pick<PlanArguments, 'backend' | 'model' | 'jsonGrammar' | 'maxTokens'>): {
  backend?: string;
  model?: string;
  jsonGrammar?: boolean;
  planMaxTokens?: number;
} {
  return {
    backend: args.backend,
    model: args.model,
    ...(args.jsonGrammar ? { jsonGrammar: true } : {}),
    ...(args.maxTokens === undefined ? {} : { planMaxTokens: args.maxTokens }),
  };
}

/** Who plans: part of the cache key, so an LLM request never gets a heuristic plan (nor older rules' plans). */
export function plannerIdentity(config: NerionConfig, llm: boolean, heuristicRules?: number): PlannerIdentity {
  return llm
    ? {
        kind: 'llm',
        backend: config.backend,
        model: config.model,
        strict: config.strict,
        jsonGrammar: config.jsonGrammar,
      }
    : { kind: 'heuristic', ...(heuristicRules === undefined ? {} : { rules: heuristicRules }) };
}

/** `-f` relative to the working directory (or absolute), as a repo-relative POSIX path. */
export function toRepoPath(root: string, file: string, cwd: string): string {
  const absolute = resolve(cwd, file);
  const inside = relative(root, absolute);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new NerionError(
      'PATH_ESCAPE',
      `The target file "${file}" is outside the repository ${root}; name a file inside it.`,
      { data: { path: file, root } },
    );
  }
  return inside.split(sep).join('/');
}

/** What the fast path and the command share for one request: the jail, the target and the cache. */
export interface PreparedPlan {
  root: string;
  target: string | undefined;
  /** undefined with --no-cache. */
  cache: PlanFlowCache | undefined;
  /** The cache file's name, for the hit note. */
  cacheFile: string;
}

/**
 * Finds the repository, jails the target and, unless --no-cache, opens the plan cache under this request's
 * key (computed the same way by the fast path and the command). The cache remembers its first answer, so
 * a miss found by the fast path is not looked up again by the command.
 */
export async function preparePlan(options: {
  config: NerionConfig;
  args: PlanArguments;
  cwd: string;
  note: (message: string) => void;
}): Promise<PreparedPlan> {
  const planCache = await import('@nerion/plan-cache');
  const { root, git } = planCache.findRepoRoot(options.cwd);
  const target = options.args.file === undefined ? undefined : toRepoPath(root, options.args.file, options.cwd);
  // The fingerprint (one synchronous `git status`) is taken first; a failure of it is reported only after the
  // target's own checks, which take precedence.
  const pending = options.args.cache
    ? planCache.fingerprintRepository(root, git).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      )
    : undefined;
  const planner = await import('@nerion/planner/validation');
  if (target !== undefined) {
    planner.assertPathsInsideRepo(root, [target]);
    // A FIFO, socket, device or directory is refused at once, whatever the planner and strictness.
    await planner.readRepoFileStart(root, target, 0);
  }
  if (pending === undefined) return { root, target, cache: undefined, cacheFile: planCache.PLAN_CACHE_FILE };
  const settled = await pending;
  if (!settled.ok) {
    // An unusable cache (no git, an unreadable repository) does not stop the plan; a refusal does.
    if (!NerionError.hasCode(settled.error, 'CACHE_ERROR')) throw settled.error;
    options.note(`warning: planning without the plan cache ([CACHE_ERROR] ${settled.error.message})`);
    return { root, target, cache: undefined, cacheFile: planCache.PLAN_CACHE_FILE };
  }
  const identity = plannerIdentity(options.config, options.args.llm, planner.HEURISTIC_RULES_VERSION);
  const key = planCache.computePlanCacheKey({
    fingerprint: settled.value.fingerprint,
    target,
    instruction: options.args.instruction,
    planner: identity,
    schemaVersion: planner.PLAN_SCHEMA_VERSION,
  });
  const onWarning = (message: string) => options.note(`warning: ${message}`);
  const verifyServed = (value: unknown) => {
    const stored = planner.verifyStoredPlan(value);
    // Only these are ever stored under such a key (a fallback is never cached).
    const expected = identity.kind === 'heuristic' ? 'heuristic' : 'llm';
    if (stored.metadata.source !== expected)
      throw new NerionError(
        'PLAN_INVALID',
        `The stored plan's metadata.source is "${stored.metadata.source}" under a ${expected} key (the entry was edited).`,
      );
    return stored;
  };
  let looked: Promise<unknown> | undefined;
  const cache: PlanFlowCache = {
    // A cache that cannot be read or written (a read-only or full disk) costs the cache, never the plan:
    // CACHE_ERROR becomes one warning, and the plan is still made and printed (a refusal still stops it).
    get: () =>
      (looked ??= new planCache.PlanCache({ root, validate: verifyServed, onWarning })
        .get(key)
        .catch((error: unknown) => {
          if (!NerionError.hasCode(error, 'CACHE_ERROR')) throw error;
          options.note(`warning: planning without the plan cache ([CACHE_ERROR] ${error.message})`);
          return undefined;
        })),
    set: async (plan) => {
      // Stored plans pass the full schema (valibot), loaded only here, after a miss.
      const { validatePlan } = await import('@nerion/planner');
      try {
        await new planCache.PlanCache({ root, validate: validatePlan, onWarning }).set(key, plan, {
          ...(target === undefined ? {} : { target }),
          instruction: options.args.instruction,
        });
      } catch (error) {
        if (!NerionError.hasCode(error, 'CACHE_ERROR')) throw error;
        options.note(`warning: the plan was not cached ([CACHE_ERROR] ${error.message})`);
      }
    },
  };
  return { root, target, cache, cacheFile: planCache.PLAN_CACHE_FILE };
}

/**
 * A miss found by the fast path, for the command to take over. bin/run.js loads this module bundled
 * (dist/plan-fast-path.bundle.cjs, see tools/scripts/bundle-plan-fast-path.mjs) while the oclif command
 * imports dist/plan-fast-path.js: two copies in one process, so they hand it over through one global slot.
 */
const EARLIER_MISS = Symbol.for('nerion.plan-fast-path.earlier-miss');
type MissSlot = { [EARLIER_MISS]?: { signature: string; prepared: PreparedPlan } };
const slot = globalThis as MissSlot;

function missSignature(args: PlanArguments, config: NerionConfig, cwd: string): string {
  return JSON.stringify([args, plannerIdentity(config, args.llm), cwd]);
}

/** The request the fast path already prepared (and missed) for exactly this command, if any (taken once). */
export function takeEarlierMiss(args: PlanArguments, config: NerionConfig, cwd: string): PreparedPlan | undefined {
  const miss = slot[EARLIER_MISS];
  slot[EARLIER_MISS] = undefined;
  return miss !== undefined && miss.signature === missSignature(args, config, cwd) ? miss.prepared : undefined;
}

/**
 * Prints the plan, the one JSON document on stdout (a cache hit says so on stderr first). `write` writes to
 * stdout (the fast path passes writeDirect; the command, process.stdout).
 */
export function printPlan(
  outcome: PlanFlowOutcome,
  prepared: PreparedPlan,
  note: (message: string) => void,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  if (outcome.cached) note(`plan cache hit (${prepared.cacheFile})`);
  write(`${JSON.stringify(outcome.plan, null, 2)}\n`);
}

/**
 * Writes straight to file descriptor 1 or 2 (write(2), synchronous): Node creates process.stdout/stderr
 * lazily, and for a pipe that is a socket with its stream machinery, ~5 ms of CPU a cache hit need not spend.
 * Whatever cannot be written this way (a full non-blocking pipe, EAGAIN; a closed one, EPIPE) goes to the
 * stream, which then behaves (waits, reports) exactly as it always did.
 */
function writeDirect(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  try {
    while (written < bytes.length) {
      const count = writeSync(fd, bytes, written);
      if (count <= 0) break;
      written += count;
    }
  } catch {
    // Handed to the stream below.
  }
  if (written < bytes.length) (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(written));
}

/**
 * Serves a cache hit without oclif. True when the plan was printed; false to hand the command to oclif
 * (only cache warnings are printed then, and the command does not repeat the lookup).
 */
export async function servePlanFromCache(argv: readonly string[]): Promise<boolean> {
  const parsed = parsePlanArguments(argv);
  if (!parsed || !parsed.cache) return false;
  try {
    const { instructionFile: _file, ...rest } = parsed;
    const note = (message: string) => writeDirect(2, `${terminalSafe(message)}\n`);
    const args: PlanArguments = { ...rest, instruction: await readInstruction(parsed, { note }) };
    const config = loadNerionConfig({ flags: planConfigFlags(args) });
    // Auto-selection runs in the command (it may pick another backend/model): no fast path for it.
    if (args.llm && config.auto) return false;
    const cwd = process.cwd();
    const prepared = await preparePlan({ config, args, cwd, note });
    const { runPlanFlow } = await import('@nerion/planner/flow');
    const outcome = await runPlanFlow({
      root: prepared.root,
      instruction: args.instruction,
      ...(prepared.target === undefined ? {} : { target: prepared.target }),
      cache: prepared.cache,
      lookupOnly: true,
      note,
    });
    if (outcome === undefined) {
      // On a miss the command (same process) takes this lookup over instead of repeating it.
      slot[EARLIER_MISS] = { signature: missSignature(args, config, cwd), prepared };
      return false;
    }
    printPlan(outcome, prepared, note, (text) => writeDirect(1, text));
    return true;
  } catch (error) {
    // Not swallowed: the full command runs next, hits the same error and reports it with its exit status.
    if (NerionError.isInstance(error) || error instanceof Error) return false;
    throw error;
  }
}

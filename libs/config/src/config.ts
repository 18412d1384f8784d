/**
 * The one configuration resolver. Precedence: CLI flag > environment > config file > auto-selection > default.
 * It never reads `process.env`: the CLI passes the environment in, so libraries and tests stay pure.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type * as YamlModule from 'yaml';
import type * as LevenshteinModule from 'fastest-levenshtein';
import { NerionError, parseBaseUrl, readBoundedFileSync, serverRoot } from '@nerion/backend-core';
import { parseArgumentList } from './argument-list.js';
import { parseBackendId, parseModelReference, type KnownBackendId } from './backend-ids.js';

export type ConfigSource = 'flag' | 'env' | 'file' | 'auto' | 'default';

export const DEFAULT_BACKEND: KnownBackendId = 'ollama';
export const DEFAULT_MODEL = 'deepseek-coder-v2';

/** Every variable the resolver reads (product-spec §2, plus the documented extras at the end). */
export const CONFIG_VARIABLES = [
  'NERION_CODER_BACKEND',
  'NERION_CODER_MODEL',
  'NERION_CODER_BASE_URL',
  'LLAMA_CPP_MODEL_PATH',
  'LLAMA_CPP_MODEL_URL',
  'LLAMA_CPP_MODEL_SHA256',
  'EXLLAMA_MODEL_DIR',
  'NERION_ALLOW_NETWORK',
  'NERION_AUTOSTART_VLLM',
  'NERION_AUTOSTART_EXL',
  'NERION_CODER_AUTO',
  'NERION_LLM_STRICT',
  'NERION_JSON_GRAMMAR',
  'NERION_MODEL_CATALOG',
  'NERION_CACHE_DIR',
  // Extras, documented in docs/configuration.md:
  'NERION_LLAMA_THREADS',
  'NERION_LLAMA_BUILD',
  'NERION_PYTHON',
  'NERION_VLLM_COMMAND',
  'NERION_SERVER_START_TIMEOUT',
  // Each HTTP backend's own endpoint (a comma-separated list or a YAML list: replicas), docs/scaling-out.md:
  'NERION_OLLAMA_BASE_URL',
  'NERION_VLLM_BASE_URL',
  'NERION_EXL_BASE_URL',
  // vLLM autostart's parallelism and extra arguments:
  'NERION_VLLM_TENSOR_PARALLEL_SIZE',
  'NERION_VLLM_PIPELINE_PARALLEL_SIZE',
  'NERION_VLLM_DATA_PARALLEL_SIZE',
  'NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND',
  'NERION_VLLM_EXTRA_ARGS',
  'NERION_PLAN_MAX_TOKENS',
] as const;
export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];

/** The variables whose config-file value may be a YAML list (base URLs: replicas; an argument list). */
export const LIST_VARIABLES: ReadonlySet<ConfigVariable> = new Set<ConfigVariable>([
  'NERION_CODER_BASE_URL',
  'NERION_OLLAMA_BASE_URL',
  'NERION_VLLM_BASE_URL',
  'NERION_EXL_BASE_URL',
  'NERION_VLLM_EXTRA_ARGS',
]);

export type ConfigScalar = string | number | boolean;
export type ConfigValues = Partial<Record<ConfigVariable, ConfigScalar | readonly ConfigScalar[]>>;

/** The HTTP backends with an endpoint of their own, and the variable that names it. */
export const ENDPOINT_VARIABLES = {
  ollama: 'NERION_OLLAMA_BASE_URL',
  vllm: 'NERION_VLLM_BASE_URL',
  exllamav2: 'NERION_EXL_BASE_URL',
} as const satisfies Partial<Record<KnownBackendId, ConfigVariable>>;
export type EndpointBackend = keyof typeof ENDPOINT_VARIABLES;

export interface ConfigFlags {
  backend?: string;
  model?: string;
  baseUrl?: string;
  jsonGrammar?: boolean;
  strict?: boolean;
  yes?: boolean;
  /**
   * `backend` and `model` name one combination the command runs (the bench's), not the user's choice:
   * NERION_CODER_BASE_URL / --base-url keep applying to the backend the user selected.
   */
  combination?: boolean;
  /** `plan --max-tokens` (NERION_PLAN_MAX_TOKENS). */
  planMaxTokens?: number;
}

export interface AutoSelection {
  backend: KnownBackendId;
  model: string;
  reasons: readonly string[];
}

export interface ResolveConfigInput {
  env?: Readonly<Record<string, string | undefined>>;
  flags?: ConfigFlags;
  /** Values from the config file (keys are the variable names), with the file's path for messages. */
  file?: { path: string; values: ConfigValues };
  auto?: AutoSelection;
  homeDir?: string;
  cwd?: string;
}

export interface NerionConfig {
  readonly backend: KnownBackendId;
  readonly model: string;
  /**
   * NERION_CODER_BASE_URL / --base-url as configured (no trailing slash), for the selected backend; undefined when
   * unset — each backend package then applies its own default (e.g. `@nerion/backend-ollama/defaults`).
   */
  readonly baseUrl: string | undefined;
  /**
   * Each HTTP backend's endpoint as configured — one URL, or several (replicas): NERION_CODER_BASE_URL /
   * --base-url for the selected backend when it outranks the backend's own variable (flag > env > file; the
   * generic one wins a tie), else NERION_OLLAMA_BASE_URL / NERION_VLLM_BASE_URL / NERION_EXL_BASE_URL.
   * Undefined: the backend's default (for Ollama, after OLLAMA_HOST).
   */
  readonly endpoints: { readonly [backend in EndpointBackend]: readonly string[] | undefined };
  /** Ollama's own OLLAMA_HOST from the environment, as written (read in Ollama's forms by @nerion/backend-ollama/settings). */
  readonly ollamaHost: string | undefined;
  readonly llamaCpp: {
    readonly modelPath: string | undefined;
    readonly modelUrl: string | undefined;
    readonly modelSha256: string | undefined;
    readonly threads: number | undefined;
    /** NERION_LLAMA_BUILD: `auto` (nerion's patched build when `nerion doctor --build-llama` made one) or `prebuilt`. */
    readonly build: 'auto' | 'prebuilt';
  };
  /** `python`: NERION_PYTHON when set; undefined lets the exllamav2 backend apply its own default (`python3`). */
  readonly exllama: { readonly modelDir: string | undefined; readonly python: string | undefined };
  readonly vllm: {
    readonly command: readonly string[] | undefined;
    /** NERION_VLLM_*_PARALLEL_SIZE and NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND (checked by @nerion/backend-vllm). */
    readonly parallelism: {
      readonly tensorParallelSize?: number;
      readonly pipelineParallelSize?: number;
      readonly dataParallelSize?: number;
      readonly distributedExecutorBackend?: string;
    };
    /** NERION_VLLM_EXTRA_ARGS as argv words (a shell-words string, or a YAML list). */
    readonly extraArgs: readonly string[] | undefined;
  };
  /** NERION_SERVER_START_TIMEOUT in ms when set; undefined lets the backend apply its own default. */
  readonly serverStartTimeoutMs: number | undefined;
  /** NERION_PLAN_MAX_TOKENS / `plan --max-tokens`; undefined lets the planner apply its own default. */
  readonly planMaxTokens: number | undefined;
  readonly allowNetwork: boolean;
  readonly autostartVllm: boolean;
  readonly autostartExl: boolean;
  readonly auto: boolean;
  readonly strict: boolean;
  readonly jsonGrammar: boolean;
  readonly catalogPath: string | undefined;
  readonly cacheDir: string;
  readonly configFile: string | undefined;
  /** Where each decision came from, for `doctor` and `--json` output. */
  readonly sources: Readonly<Record<string, ConfigSource>>;
  readonly autoSelection: AutoSelection | undefined;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', '']);

/** `1,true,yes,on` → true; `0,false,no,off,""` → false; anything else is a CONFIG_INVALID error. */
export function parseBoolean(value: string | number | boolean, name: string): boolean {
  if (typeof value === 'boolean') return value;
  const word = String(value).trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new NerionError('CONFIG_INVALID', `${name}="${value}" is not a boolean. Use 1/true/yes/on or 0/false/no/off.`, {
    data: { name, value },
  });
}

function parsePositiveInteger(value: string | number | boolean, name: string): number {
  const number = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(number) || number < 1) {
    throw new NerionError('CONFIG_INVALID', `${name}="${value}" must be a positive whole number.`, {
      data: { name, value },
      fix: { settings: [settingName(name)] },
    });
  }
  return number;
}

/**
 * Splits a command line (NERION_VLLM_COMMAND) into argv without a shell, by the same shell-words parser as
 * argument lists (`parseArgumentList`): quotes group, backslashes escape, `$NAME` stays literal, and a shell
 * operator, glob or comment is CONFIG_INVALID. An empty command is CONFIG_INVALID too.
 */
export function splitCommandLine(value: string, name: string): string[] {
  const words = parseArgumentList(value, name);
  if (words.length === 0)
    throw new NerionError(
      'CONFIG_INVALID',
      `${name} is empty; give the command that starts the server, e.g. "vllm serve".`,
      { fix: { settings: [settingName(name)] } },
    );
  return words;
}

/** Resolves the one immutable config. Throws CONFIG_INVALID naming the variable and the fix. */
export function resolveConfig(input: ResolveConfigInput = {}): NerionConfig {
  const env = input.env ?? {};
  const flags = input.flags ?? {};
  const fileValues = input.file?.values ?? {};
  const sources: Record<string, ConfigSource> = {};
  const homeDir = input.homeDir ?? homedir();
  const cwd = input.cwd ?? '.';

  const lookup = (
    name: ConfigVariable,
  ): { value: ConfigScalar | readonly ConfigScalar[]; source: ConfigSource } | undefined => {
    const fromEnv = env[name];
    if (fromEnv !== undefined) return { value: fromEnv, source: 'env' };
    const fromFile = fileValues[name];
    if (fromFile !== undefined && fromFile !== null) return { value: fromFile, source: 'file' };
    return undefined;
  };
  const text = (name: ConfigVariable): string | undefined => {
    const found = lookup(name);
    if (!found) return undefined;
    sources[name] = found.source;
    if (Array.isArray(found.value))
      throw new NerionError('CONFIG_INVALID', `${name} in ${input.file?.path} takes one value, not a list.`, {
        fix: { settings: [name] },
        data: { name, file: input.file?.path },
      });
    const value = String(found.value).trim();
    return value === '' ? undefined : value;
  };
  const bool = (name: ConfigVariable, flag?: boolean): boolean => {
    if (flag !== undefined) {
      sources[name] = 'flag';
      return flag;
    }
    const found = lookup(name);
    if (!found) return false;
    sources[name] = found.source;
    if (Array.isArray(found.value)) return parseBoolean(String(found.value), `${name} in ${input.file?.path}`);
    return parseBoolean(found.value as ConfigScalar, found.source === 'file' ? `${name} in ${input.file?.path}` : name);
  };

  // Backend and model: the model's prefix (`ollama:x`) is a backend choice at the model's level.
  type Choice = { backend: KnownBackendId; source: ConfigSource; from: string };
  const choices: Choice[] = [];
  let model: { name: string; source: ConfigSource } | undefined;
  const considerModel = (raw: string | undefined, source: ConfigSource, from: string): void => {
    if (raw === undefined || model) return;
    const reference = parseModelReference(raw);
    model = { name: reference.model, source };
    if (reference.backend) choices.push({ backend: reference.backend, source, from });
  };
  const considerBackend = (raw: string | undefined, source: ConfigSource, from: string): void => {
    if (raw === undefined) return;
    choices.push({ backend: parseBackendId(raw, from), source, from });
  };
  considerBackend(flags.backend, 'flag', '--backend');
  considerModel(flags.model, 'flag', '--model');
  const envBackend = env.NERION_CODER_BACKEND?.trim() || undefined;
  const envModel = env.NERION_CODER_MODEL?.trim() || undefined;
  considerBackend(envBackend, 'env', 'NERION_CODER_BACKEND');
  considerModel(envModel, 'env', 'NERION_CODER_MODEL');
  const fileBackend =
    fileValues.NERION_CODER_BACKEND === undefined ? undefined : String(fileValues.NERION_CODER_BACKEND);
  const fileModel = fileValues.NERION_CODER_MODEL === undefined ? undefined : String(fileValues.NERION_CODER_MODEL);
  considerBackend(fileBackend, 'file', `NERION_CODER_BACKEND in ${input.file?.path}`);
  considerModel(fileModel, 'file', `NERION_CODER_MODEL in ${input.file?.path}`);

  const rank: Record<ConfigSource, number> = { flag: 0, env: 1, file: 2, auto: 3, default: 4 };
  choices.sort((left, right) => rank[left.source] - rank[right.source]);
  const top = choices[0];
  const conflicting = top && choices.find((choice) => choice.source === top.source && choice.backend !== top.backend);
  if (top && conflicting) {
    throw new NerionError(
      'CONFIG_INVALID',
      `${top.from} selects backend "${top.backend}" but ${conflicting.from} selects "${conflicting.backend}". Drop the model prefix or make them agree.`,
      {
        data: { backends: [top.backend, conflicting.backend] },
        fix: { settings: ['NERION_CODER_BACKEND', 'NERION_CODER_MODEL'] },
      },
    );
  }

  const autoOn = bool('NERION_CODER_AUTO');
  const useAuto = autoOn && input.auto !== undefined;
  let backend: KnownBackendId;
  if (top) {
    backend = top.backend;
    sources.backend = top.source;
  } else if (useAuto) {
    backend = input.auto!.backend;
    sources.backend = 'auto';
  } else {
    backend = DEFAULT_BACKEND;
    sources.backend = 'default';
  }
  let modelName: string;
  if (model) {
    modelName = model.name;
    sources.model = model.source;
  } else if (useAuto && input.auto!.backend === backend) {
    modelName = input.auto!.model;
    sources.model = 'auto';
  } else {
    modelName = DEFAULT_MODEL;
    sources.model = 'default';
  }

  // An empty value is unset, as for every other variable.
  const present = <T extends { value: ConfigScalar | readonly ConfigScalar[] }>(found: T | undefined): T | undefined =>
    found === undefined || (typeof found.value === 'string' && found.value.trim() === '') ? undefined : found;
  // Each HTTP backend's endpoint. NERION_CODER_BASE_URL belongs to the backend the user selected (for a
  // bench combination, not the combination's backend); it and the backend's own variable compete by source.
  const userChoice = choices.find((choice) => choice.source !== 'flag');
  const endpointOwner: KnownBackendId = !flags.combination
    ? backend
    : (userChoice?.backend ?? (useAuto ? input.auto!.backend : DEFAULT_BACKEND));
  const generic =
    flags.baseUrl !== undefined
      ? {
          value: flags.baseUrl as ConfigScalar | readonly ConfigScalar[],
          source: 'flag' as ConfigSource,
          name: '--base-url',
        }
      : (() => {
          const found = present(lookup('NERION_CODER_BASE_URL'));
          return found && { ...found, name: 'NERION_CODER_BASE_URL' };
        })();
  const endpointFor = (owner: EndpointBackend): readonly string[] | undefined => {
    const variable = ENDPOINT_VARIABLES[owner];
    const own = present(lookup(variable));
    const candidates = [
      ...(owner === endpointOwner && generic ? [generic] : []),
      ...(own ? [{ ...own, name: variable as string }] : []),
    ].sort((left, right) => rank[left.source] - rank[right.source]);
    const chosen = candidates[0];
    if (!chosen) return undefined;
    if (chosen.name === variable) sources[variable] = chosen.source;
    return parseBaseUrlList(chosen.value, chosen.name, input.file?.path, chosen.source);
  };
  if (generic) sources.NERION_CODER_BASE_URL = generic.source;
  const genericUrls =
    generic === undefined ? undefined : parseBaseUrlList(generic.value, generic.name, input.file?.path, generic.source);
  const endpoints = { ollama: endpointFor('ollama'), vllm: endpointFor('vllm'), exllamav2: endpointFor('exllamav2') };
  // The selected backend's endpoint (its first URL): what NERION_CODER_BASE_URL names for it.
  const baseUrl = backend in ENDPOINT_VARIABLES ? endpoints[backend as EndpointBackend]?.[0] : genericUrls?.[0];
  const ollamaHost = env.OLLAMA_HOST?.trim() || undefined;

  const cacheDirRaw = text('NERION_CACHE_DIR');
  const cacheDir = cacheDirRaw ? resolve(cwd, expandHome(cacheDirRaw, homeDir)) : join(homeDir, '.cache', 'nerion');
  const pathValue = (name: ConfigVariable): string | undefined => {
    const value = text(name);
    return value === undefined ? undefined : resolve(cwd, expandHome(value, homeDir));
  };
  const sha = text('LLAMA_CPP_MODEL_SHA256')?.toLowerCase();
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new NerionError(
      'CONFIG_INVALID',
      `LLAMA_CPP_MODEL_SHA256 must be 64 hexadecimal characters (a sha256 digest), got "${sha}".`,
      { fix: { settings: ['LLAMA_CPP_MODEL_SHA256'] } },
    );
  }
  const modelUrl = text('LLAMA_CPP_MODEL_URL');
  if (modelUrl !== undefined)
    parseBaseUrl(modelUrl, { name: 'LLAMA_CPP_MODEL_URL', example: 'https://host/model.gguf' });
  const threadsRaw = text('NERION_LLAMA_THREADS');
  const llamaBuildRaw = text('NERION_LLAMA_BUILD')?.trim().toLowerCase();
  if (llamaBuildRaw !== undefined && llamaBuildRaw !== 'auto' && llamaBuildRaw !== 'prebuilt') {
    throw new NerionError(
      'CONFIG_INVALID',
      `NERION_LLAMA_BUILD must be "auto" or "prebuilt", got "${llamaBuildRaw}".`,
      { fix: { settings: ['NERION_LLAMA_BUILD'] } },
    );
  }
  const commandRaw = text('NERION_VLLM_COMMAND');
  const size = (name: ConfigVariable): number | undefined => {
    const raw = text(name);
    return raw === undefined ? undefined : parsePositiveInteger(raw, name);
  };
  const parallelism = {
    ...optional('tensorParallelSize', size('NERION_VLLM_TENSOR_PARALLEL_SIZE')),
    ...optional('pipelineParallelSize', size('NERION_VLLM_PIPELINE_PARALLEL_SIZE')),
    ...optional('dataParallelSize', size('NERION_VLLM_DATA_PARALLEL_SIZE')),
    ...optional('distributedExecutorBackend', text('NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND')),
  };
  const extraArgsFound = lookup('NERION_VLLM_EXTRA_ARGS');
  if (extraArgsFound) sources.NERION_VLLM_EXTRA_ARGS = extraArgsFound.source;
  const extraArgs =
    extraArgsFound === undefined
      ? undefined
      : parseArgumentList(
          Array.isArray(extraArgsFound.value) ? extraArgsFound.value : String(extraArgsFound.value),
          'NERION_VLLM_EXTRA_ARGS',
        );
  const startTimeoutRaw = text('NERION_SERVER_START_TIMEOUT');
  const planMaxTokensRaw = text('NERION_PLAN_MAX_TOKENS');
  if (flags.planMaxTokens !== undefined) sources.NERION_PLAN_MAX_TOKENS = 'flag';

  const config: NerionConfig = {
    backend,
    model: modelName,
    baseUrl,
    endpoints,
    ollamaHost,
    llamaCpp: {
      modelPath: pathValue('LLAMA_CPP_MODEL_PATH'),
      modelUrl,
      modelSha256: sha,
      threads: threadsRaw === undefined ? undefined : parsePositiveInteger(threadsRaw, 'NERION_LLAMA_THREADS'),
      build: llamaBuildRaw === 'prebuilt' ? 'prebuilt' : 'auto',
    },
    exllama: { modelDir: pathValue('EXLLAMA_MODEL_DIR'), python: text('NERION_PYTHON') },
    vllm: {
      command: commandRaw === undefined ? undefined : splitCommandLine(commandRaw, 'NERION_VLLM_COMMAND'),
      parallelism,
      extraArgs: extraArgs === undefined || extraArgs.length === 0 ? undefined : extraArgs,
    },
    serverStartTimeoutMs:
      startTimeoutRaw === undefined
        ? undefined
        : parsePositiveInteger(startTimeoutRaw, 'NERION_SERVER_START_TIMEOUT') * 1000,
    planMaxTokens:
      flags.planMaxTokens ??
      (planMaxTokensRaw === undefined ? undefined : parsePositiveInteger(planMaxTokensRaw, 'NERION_PLAN_MAX_TOKENS')),
    allowNetwork: bool('NERION_ALLOW_NETWORK', flags.yes === true ? true : undefined),
    autostartVllm: bool('NERION_AUTOSTART_VLLM'),
    autostartExl: bool('NERION_AUTOSTART_EXL'),
    auto: autoOn,
    strict: bool('NERION_LLM_STRICT', flags.strict),
    jsonGrammar: bool('NERION_JSON_GRAMMAR', flags.jsonGrammar === true ? true : undefined),
    catalogPath: pathValue('NERION_MODEL_CATALOG'),
    cacheDir,
    configFile: input.file?.path,
    sources: Object.freeze({ ...sources }),
    autoSelection: useAuto && sources.backend === 'auto' ? input.auto : undefined,
  };
  return deepFreeze(config);
}

/** Where the config file lives: NERION_CONFIG, else $XDG_CONFIG_HOME/nerion/config.yaml, else ~/.config/nerion/config.yaml. */
export function defaultConfigFilePath(env: Readonly<Record<string, string | undefined>>, homeDir = homedir()): string {
  if (env.NERION_CONFIG?.trim()) return resolve(expandHome(env.NERION_CONFIG.trim(), homeDir));
  const base = env.XDG_CONFIG_HOME?.trim() || join(homeDir, '.config');
  return join(base, 'nerion', 'config.yaml');
}

/**
 * Reads a YAML config file whose keys are the variable names (`NERION_CODER_BACKEND: vllm`).
 * A missing file is no config (undefined); a malformed one is CONFIG_INVALID with the file and line.
 */
/** yaml costs ~90 ms to load (dozens of CommonJS files), so it is loaded only when a config file exists. */
function loadYaml(): typeof YamlModule {
  return createRequire(import.meta.url)('yaml') as typeof YamlModule;
}

/** The largest config file read (a config file is a few lines of YAML). */
export const CONFIG_FILE_MAX_BYTES = 1_000_000;

export function loadConfigFile(path: string): { path: string; values: ConfigValues } | undefined {
  // Only a regular file, bounded: a FIFO at the path would hang the read, a huge file would fill memory.
  const read = readBoundedFileSync(path, CONFIG_FILE_MAX_BYTES);
  if (read === undefined) return undefined;
  if ('problem' in read)
    throw new NerionError(
      'CONFIG_INVALID',
      `The config file ${path} ${read.problem} — point NERION_CONFIG at a YAML file, or remove what is at that path.`,
      {
        ...(read.cause === undefined ? {} : { cause: read.cause }),
        data: { file: path },
        fix: { settings: ['NERION_CONFIG'] },
      },
    );
  const source = read.text;
  const { parse: parseYaml, isDocument, parseDocument } = loadYaml();
  const document = parseDocument(source);
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = first.linePos?.[0]?.line;
    throw new NerionError('CONFIG_INVALID', `${path}${line ? `:${line}` : ''}: ${first.message.split('\n')[0]}`, {
      data: { file: path, line },
    });
  }
  let values: unknown;
  try {
    // At most 100 alias expansions: a "billion laughs" document must not exhaust memory.
    values = isDocument(document) ? document.toJS({ maxAliasCount: 100 }) : parseYaml(source, { maxAliasCount: 100 });
  } catch (error) {
    throw new NerionError(
      'CONFIG_INVALID',
      `${path}: the config file could not be read as data (${(error as Error).message}); it uses too many YAML aliases (*name) — write the values out instead.`,
      { cause: error, data: { file: path } },
    );
  }
  if (values === null || values === undefined) return { path, values: {} };
  if (typeof values !== 'object' || Array.isArray(values)) {
    throw new NerionError(
      'CONFIG_INVALID',
      `${path}: the config file must be a mapping of variable names to values (e.g. NERION_CODER_BACKEND: ollama).`,
      { data: { file: path } },
    );
  }
  const known = new Set<string>(CONFIG_VARIABLES);
  /** `path:line` of a top-level key (the yaml package gives each node's source offsets). */
  const where = (key: string): { at: string; line: number | undefined } => {
    const contents = document.contents as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] };
    const offset = contents?.items?.find((item) => String(item.key?.value) === key)?.key?.range?.[0];
    const line = offset === undefined ? undefined : source.slice(0, offset).split('\n').length;
    return { at: line === undefined ? path : `${path}:${line}`, line };
  };
  for (const [key, value] of Object.entries(values)) {
    if (!known.has(key)) {
      const { at, line } = where(key);
      const nearest = nearestVariable(key);
      throw new NerionError(
        'CONFIG_INVALID',
        `${at}: unknown key "${key}".${nearest ? ` Did you mean ${nearest}?` : ''} Known keys: ${CONFIG_VARIABLES.join(', ')}.`,
        {
          data: {
            file: path,
            key,
            ...(line === undefined ? {} : { line }),
            ...(nearest ? { suggestions: [nearest] } : {}),
          },
          ...(nearest ? { fix: { settings: [nearest] } } : {}),
        },
      );
    }
    const listAllowed = LIST_VARIABLES.has(key as ConfigVariable);
    const scalar = (item: unknown): boolean => ['string', 'number', 'boolean'].includes(typeof item);
    if (Array.isArray(value) && listAllowed && value.every(scalar)) continue;
    if (typeof value === 'object' && value !== null) {
      const { at, line } = where(key);
      throw new NerionError(
        'CONFIG_INVALID',
        `${at}: ${key} must be ${listAllowed ? 'a string, number or boolean, or a list of them' : 'a string, number or boolean'}.`,
        { data: { file: path, key, ...(line === undefined ? {} : { line }) }, fix: { settings: [key] } },
      );
    }
  }
  return { path, values: values };
}

/**
 * A base-URL setting: one URL, a comma-separated list, or a YAML list — each an http(s) URL without
 * credentials (parseBaseUrl), returned as server roots in order. Empty or repeated entries are CONFIG_INVALID.
 */
export function parseBaseUrlList(
  value: ConfigScalar | readonly ConfigScalar[],
  name: string,
  file?: string,
  source?: ConfigSource,
): string[] {
  const label = source === 'file' && file ? `${name} in ${file}` : name;
  const entries = (Array.isArray(value) ? value.map(String) : String(value).split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const fix = name.startsWith('-') ? {} : { fix: { settings: [name] } };
  if (entries.length === 0)
    throw new NerionError('CONFIG_INVALID', `${label} is empty; give a base URL like http://localhost:8000.`, {
      data: { name },
      ...fix,
    });
  // The server root (no trailing slash, no query), as for NERION_CODER_BASE_URL.
  const roots = entries.map((entry) => serverRoot(parseBaseUrl(entry, { name, example: 'http://localhost:8000' })));
  const repeated = roots.find((root, index) => roots.indexOf(root) !== index);
  if (repeated !== undefined)
    throw new NerionError('CONFIG_INVALID', `${label} lists ${repeated} more than once; list each replica once.`, {
      data: { name, baseUrls: roots },
      ...fix,
    });
  return roots;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [key in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [key in K]?: V };
}

/** The known variable nearest to a mistyped key (case-insensitive edit distance), when one is plausibly meant. */
export function nearestVariable(key: string): ConfigVariable | undefined {
  // Loaded here, on the error path only (the plan-cache fast path bundles this module and must stay light).
  const { distance } = createRequire(import.meta.url)('fastest-levenshtein') as typeof LevenshteinModule;
  const wanted = key.trim().toUpperCase();
  let best: { name: ConfigVariable; cost: number } | undefined;
  for (const name of CONFIG_VARIABLES) {
    const cost = distance(wanted, name);
    if (!best || cost < best.cost) best = { name, cost };
  }
  // At most a third of the name may differ: "NERION_CODER_BACKNED" is meant, "FOO" is not.
  return best && best.cost <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/** `NERION_LLAMA_THREADS in /path/config.yaml` → `NERION_LLAMA_THREADS`: the variable a message names. */
function settingName(name: string): string {
  return name.split(' ')[0];
}

function expandHome(path: string, homeDir: string): string {
  return path === '~' ? homeDir : path.startsWith('~/') ? join(homeDir, path.slice(2)) : path;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

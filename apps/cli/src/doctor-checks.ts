/**
 * `nerion doctor`: for every backend — configured? reachable? model present? strict JSON works? —
 * each failing check with the exact command that fixes it. Engines load lazily through the registry.
 */
import {
  NerionError,
  describeError,
  formatBytes,
  shellJoin,
  type CoderBackend,
  type ReplicaStatus,
} from '@nerion/backend-core';
import { resolveModelForBackend } from '@nerion/catalog';
import {
  CONFIG_VARIABLES,
  KNOWN_BACKEND_IDS,
  type ConfigSource,
  type ConfigVariable,
  type NerionConfig,
  type KnownBackendId,
} from '@nerion/config';
import { DEFAULT_OLLAMA_BASE_URL, ollamaServeCommand } from '@nerion/backend-ollama/settings';
import { DEFAULT_VLLM_BASE_URL } from '@nerion/backend-vllm/settings';
import type { LlamaCppProbeFacts } from '@nerion/backend-llamacpp';
import { createBackendRegistry } from './backends/index.js';
import { baseUrlFor, endpointsFor, loadCatalogForConfig } from './catalog.js';
import { colorsFor, type Colors } from './colors.js';

export type CheckName = 'configured' | 'reachable' | 'model' | 'strict_json' | 'threads' | 'llama_build';

export interface DoctorCheck {
  check: CheckName;
  /** null: not run, because an earlier check failed. */
  ok: boolean | null;
  detail: string;
  fix?: string;
}

export interface DoctorBackendReport {
  backend: KnownBackendId;
  model: string;
  selected: boolean;
  usable: boolean;
  checks: DoctorCheck[];
  /**
   * What the backend reported about itself (its probe's typed facts): for llama_cpp the device, file, size,
   * architecture, trained context length and thread count with where it came from.
   */
  facts?: Readonly<Record<string, unknown>>;
  /** Each replica, when the backend routes over several base URLs (as its probe saw them). */
  replicas?: readonly ReplicaStatus[];
}

/** One setting as the config resolver decided it. */
export interface DoctorSetting {
  name: string;
  /** The value in effect (null: unset, the backend applies its own default). */
  value: string | number | boolean | readonly string[] | null;
  source: ConfigSource;
}

export interface DoctorReport {
  backend: KnownBackendId;
  model: string;
  sources: Readonly<Record<string, string>>;
  /** Every setting's value and where it came from (flag, env, file, auto, default). */
  settings: DoctorSetting[];
  backends: DoctorBackendReport[];
}

/** Each config variable's value in the resolved config, and its source (`default` when nothing set it). */
export function describeSettings(config: NerionConfig): DoctorSetting[] {
  const values: Record<ConfigVariable, DoctorSetting['value'] | undefined> = {
    NERION_CODER_BACKEND: config.backend,
    NERION_CODER_MODEL: config.model,
    NERION_CODER_BASE_URL: config.baseUrl,
    LLAMA_CPP_MODEL_PATH: config.llamaCpp.modelPath,
    LLAMA_CPP_MODEL_URL: config.llamaCpp.modelUrl,
    LLAMA_CPP_MODEL_SHA256: config.llamaCpp.modelSha256,
    EXLLAMA_MODEL_DIR: config.exllama.modelDir,
    NERION_ALLOW_NETWORK: config.allowNetwork,
    NERION_AUTOSTART_VLLM: config.autostartVllm,
    NERION_AUTOSTART_EXL: config.autostartExl,
    NERION_CODER_AUTO: config.auto,
    NERION_LLM_STRICT: config.strict,
    NERION_JSON_GRAMMAR: config.jsonGrammar,
    NERION_MODEL_CATALOG: config.catalogPath,
    NERION_CACHE_DIR: config.cacheDir,
    NERION_LLAMA_THREADS: config.llamaCpp.threads,
    NERION_LLAMA_BUILD: config.sources.NERION_LLAMA_BUILD ? config.llamaCpp.build : undefined,
    NERION_PYTHON: config.exllama.python,
    NERION_VLLM_COMMAND: config.vllm.command,
    NERION_SERVER_START_TIMEOUT:
      config.serverStartTimeoutMs === undefined ? undefined : config.serverStartTimeoutMs / 1000,
    // A backend's own endpoint variable, when it (not NERION_CODER_BASE_URL) set the endpoint.
    NERION_OLLAMA_BASE_URL: config.sources.NERION_OLLAMA_BASE_URL ? config.endpoints.ollama : undefined,
    NERION_VLLM_BASE_URL: config.sources.NERION_VLLM_BASE_URL ? config.endpoints.vllm : undefined,
    NERION_EXL_BASE_URL: config.sources.NERION_EXL_BASE_URL ? config.endpoints.exllamav2 : undefined,
    NERION_VLLM_TENSOR_PARALLEL_SIZE: config.vllm.parallelism.tensorParallelSize,
    NERION_VLLM_PIPELINE_PARALLEL_SIZE: config.vllm.parallelism.pipelineParallelSize,
    NERION_VLLM_DATA_PARALLEL_SIZE: config.vllm.parallelism.dataParallelSize,
    NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND: config.vllm.parallelism.distributedExecutorBackend,
    NERION_VLLM_EXTRA_ARGS: config.vllm.extraArgs,
    NERION_PLAN_MAX_TOKENS: config.planMaxTokens,
  };
  const sourceOf = (name: ConfigVariable): ConfigSource =>
    name === 'NERION_CODER_BACKEND'
      ? (config.sources.backend ?? 'default')
      : name === 'NERION_CODER_MODEL'
        ? (config.sources.model ?? 'default')
        : (config.sources[name] ?? 'default');
  return CONFIG_VARIABLES.map((name) => ({ name, value: values[name] ?? null, source: sourceOf(name) }));
}

const STRICT_SCHEMA = {
  type: 'object',
  properties: { ok: { type: 'boolean' } },
  required: ['ok'],
  additionalProperties: false,
};

function fixes(
  backend: KnownBackendId,
  model: string,
  config: NerionConfig,
): { unreachable: string; missingModel: string; unconfigured: string } {
  switch (backend) {
    case 'ollama':
      return {
        unconfigured: `export NERION_OLLAMA_BASE_URL=${DEFAULT_OLLAMA_BASE_URL}`,
        unreachable: `${shellJoin(ollamaServeCommand(baseUrlFor(config, 'ollama')))}   # or point NERION_OLLAMA_BASE_URL at your Ollama (now ${endpointsFor(config, 'ollama').join(',')})`,
        missingModel: `nerion models ensure --backend ollama --model ${model}   # or: ollama pull ${model}`,
      };
    case 'llama_cpp':
      return {
        unconfigured: `nerion models ensure --backend llama_cpp --model ${model} --yes   # or: export LLAMA_CPP_MODEL_PATH=/path/to/model.gguf`,
        unreachable: `nerion models ensure --backend llama_cpp --model ${model} --force   # downloads it again; or: export LLAMA_CPP_MODEL_PATH=/path/to/a/valid/model.gguf`,
        missingModel: `nerion models ensure --backend llama_cpp --model ${model} --yes`,
      };
    case 'vllm': {
      // The fix names the actual endpoint (host and port) and the catalog's repository for the model.
      const endpoint = new URL(baseUrlFor(config, 'vllm'));
      const host = endpoint.hostname === 'localhost' ? '127.0.0.1' : endpoint.hostname;
      const port = endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80');
      let repo = model;
      let served = model;
      try {
        const resolution = resolveModelForBackend(loadCatalogForConfig(config), 'vllm', model);
        if (resolution.entry) {
          repo = resolution.entry.repo;
          served = resolution.name;
        }
      } catch {
        // An unreadable catalog: the model name stands for the repository.
      }
      const serve = `vllm serve ${repo} --served-model-name ${served} --host ${host} --port ${port}`;
      return {
        unconfigured: `export NERION_VLLM_BASE_URL=${DEFAULT_VLLM_BASE_URL}`,
        unreachable: config.autostartVllm
          ? `${serve}   # NERION_AUTOSTART_VLLM=1 is set: see the vLLM log under ${config.cacheDir}/logs/`
          : `${serve}   # or: export NERION_AUTOSTART_VLLM=1`,
        missingModel: `restart vLLM with --served-model-name ${served} (see \`nerion models ensure --backend vllm --model ${model}\`)`,
      };
    }
    case 'exllamav2':
      return {
        unconfigured: `export EXLLAMA_MODEL_DIR=/path/to/exl2/model   # or a TabbyAPI server: export NERION_EXL_BASE_URL=http://localhost:5000`,
        unreachable: `pip install exllamav2   # (and torch for your platform), or run TabbyAPI and set NERION_EXL_BASE_URL`,
        missingModel: `nerion models ensure --backend exllamav2 --model ${model}`,
      };
  }
}

async function checkBackend(
  backend: KnownBackendId,
  model: string,
  config: NerionConfig,
  timeoutMs: number,
): Promise<DoctorBackendReport> {
  const selected = backend === config.backend;
  const fix = fixes(backend, model, config);
  const checks: DoctorCheck[] = [];
  let facts: Readonly<Record<string, unknown>> | undefined;
  let replicas: readonly ReplicaStatus[] | undefined;
  const report = (): DoctorBackendReport => ({
    backend,
    model,
    selected,
    usable: checks.every((check) => check.ok === true),
    checks,
    ...(facts === undefined ? {} : { facts }),
    ...(replicas ? { replicas } : {}),
  });
  const skip = (...names: CheckName[]): void => {
    for (const check of names) checks.push({ check, ok: null, detail: 'not checked: an earlier check failed' });
  };

  let instance: CoderBackend;
  try {
    instance = await createBackendRegistry().create(backend, model, { config });
    checks.push({ check: 'configured', ok: true, detail: `${backend} is configured for ${model}` });
  } catch (error) {
    // An unknown model name: the fix is the error's own (the nearest catalog name), not `ensure` of the typo.
    const own =
      NerionError.hasCode(error, 'UNKNOWN_MODEL') && error.fix?.command ? shellJoin(error.fix.command) : undefined;
    checks.push({ check: 'configured', ok: false, detail: describeError(error), fix: own ?? fix.unconfigured });
    skip('reachable', 'model', 'strict_json');
    return report();
  }
  try {
    const probe = await instance.probe({ timeoutMs: Math.min(timeoutMs, 5000) });
    if (probe.facts) facts = probe.facts;
    replicas = probe.replicas;
    if (!probe.available) {
      checks.push({
        check: 'reachable',
        ok: false,
        detail: probe.reason ?? `${backend} is not available`,
        fix: fix.unreachable,
      });
      skip('model', 'strict_json');
      return report();
    }
    checks.push({
      check: 'reachable',
      ok: true,
      detail: [probe.version && `version ${probe.version}`, probe.reason].filter(Boolean).join('; ') || 'answers',
    });
    if (probe.modelAvailable === false) {
      const known = probe.models?.length ? ` Available: ${probe.models.slice(0, 10).join(', ')}.` : '';
      checks.push({ check: 'model', ok: false, detail: `${model} is not present.${known}`, fix: fix.missingModel });
      skip('strict_json');
      return report();
    }
    checks.push({ check: 'model', ok: true, detail: `${model} is present` });
    try {
      const result = await instance.generate({
        messages: [{ role: 'user', content: 'Answer with JSON: {"ok": true}' }],
        jsonSchema: STRICT_SCHEMA,
        maxTokens: 16,
        temperature: 0,
        timeoutMs,
      });
      checks.push({
        check: 'strict_json',
        ok: true,
        detail: `${instance.supportsConstrainedDecoding ? 'constrained decoding' : 'validated output'}: ${oneLine(result.text, 60)}`,
      });
      // After a generation an in-process engine knows its device and its thread counts (measured or cached):
      // ask again for the final facts.
      if (backend === 'llama_cpp') {
        const after = await instance.probe({ timeoutMs: Math.min(timeoutMs, 5000) });
        if (after.facts) facts = after.facts;
        checks.push({ check: 'threads', ok: true, detail: describeThreads(after.facts ?? {}) });
        checks.push({ check: 'llama_build', ok: true, detail: describeBuild(after.facts ?? {}, config) });
      }
    } catch (error) {
      const code = NerionError.isInstance(error) ? ` [${error.code}]` : '';
      checks.push({
        check: 'strict_json',
        ok: false,
        detail: `${describeError(error)}${code}`,
        fix: `use a backend/model with constrained decoding (llama_cpp, Ollama ≥ 0.5, vLLM), or run \`nerion plan\` without --json-grammar`,
      });
    }
    return report();
  } finally {
    await instance.close();
  }
}

/** Which llama.cpp binaries run the model, and how to switch. */
function describeBuild(details: LlamaCppProbeFacts, config: NerionConfig): string {
  if (details.bindings === 'localBuild')
    return 'nerion build with the threadpool patch (nerion doctor --build-llama); NERION_LLAMA_BUILD=prebuilt uses the prebuilt binaries';
  if (config.llamaCpp.build === 'prebuilt') return 'node-llama-cpp prebuilt binaries (NERION_LLAMA_BUILD=prebuilt)';
  return 'node-llama-cpp prebuilt binaries';
}

/** "decode 2, prompt 2 threads (measured 2026-11-30 04:50 UTC, load 0.4; cached in …)" from llama_cpp's probe details. */
function describeThreads(details: LlamaCppProbeFacts): string {
  const counts =
    details.promptThreads === undefined || details.promptThreads === details.threads
      ? `${String(details.threads)} thread${details.threads === 1 ? '' : 's'}`
      : `decode ${String(details.threads)}, prompt ${String(details.promptThreads)} threads`;
  const when =
    typeof details.threadsMeasuredAt === 'string' ? details.threadsMeasuredAt.replace('T', ' ').slice(0, 16) : '';
  const load =
    typeof details.threadsMeasuredLoadAverage === 'number'
      ? `, load ${details.threadsMeasuredLoadAverage.toFixed(1)}`
      : '';
  const cache = typeof details.threadsCacheFile === 'string' ? `; cached in ${details.threadsCacheFile}` : '';
  switch (details.threadsSource) {
    case 'measured':
      return `${counts} (measured just now${load}${cache}); NERION_LLAMA_THREADS overrides`;
    case 'cached':
      return `${counts} (measured ${when} UTC${load}${cache}); NERION_LLAMA_THREADS overrides`;
    case 'settings':
      return `${counts} (NERION_LLAMA_THREADS)`;
    default:
      return `${counts} (usable cores − 1)`;
  }
}

export async function runDoctor(config: NerionConfig, options: { timeoutMs?: number } = {}): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const reports = await Promise.all(
    KNOWN_BACKEND_IDS.map((backend) => checkBackend(backend, config.model, config, timeoutMs)),
  );
  return {
    backend: config.backend,
    model: config.model,
    sources: config.sources,
    settings: describeSettings(config),
    backends: reports,
  };
}

/** Text on one line (JSON a model printed over several lines stays one detail line), at most `limit` characters. */
export function oneLine(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit - 1)}…`;
}

/** llama_cpp's facts as one line: device, file and size, architecture, trained context, threads. */
function describeFacts(facts: Readonly<Record<string, unknown>>): string | undefined {
  const parts: string[] = [];
  if (typeof facts.device === 'string') parts.push(`device ${facts.device}`);
  if (typeof facts.file === 'string')
    parts.push(`file ${facts.file}${typeof facts.sizeBytes === 'number' ? ` (${formatBytes(facts.sizeBytes)})` : ''}`);
  if (typeof facts.architecture === 'string') parts.push(`architecture ${facts.architecture}`);
  if (typeof facts.contextLength === 'number') parts.push(`trained context ${facts.contextLength}`);
  // The thread count and where it came from (settings / auto; #16 adds when it was measured, as `threadsMeasuredAt`).
  if (typeof facts.threads === 'number') {
    const why = [
      facts.threadsSource,
      typeof facts.threadsMeasuredAt === 'string' && `measured ${facts.threadsMeasuredAt}`,
    ]
      .filter((part) => typeof part === 'string' && part !== '')
      .join(', ');
    parts.push(`threads ${facts.threads}${why ? ` (${why})` : ''}`);
  }
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

export function renderDoctorReport(report: DoctorReport, colors: Colors = colorsFor(process.stdout)): string {
  const lines: string[] = [];
  for (const backend of report.backends) {
    lines.push(
      `${backend.backend}${backend.selected ? ' (selected)' : ''} — ${backend.model}: ${backend.usable ? 'usable' : 'not usable'}`,
    );
    for (const check of backend.checks) {
      const mark =
        check.ok === true ? colors.green('ok  ') : check.ok === false ? colors.red('FAIL') : colors.dim('skip');
      lines.push(`  ${mark} ${check.check.padEnd(11)} ${check.detail}`);
      if (check.ok === false && check.fix) lines.push(`       fix: ${check.fix}`);
    }
    const facts = backend.facts === undefined ? undefined : describeFacts(backend.facts);
    if (facts !== undefined) lines.push(`       ${facts}`);
    for (const replica of backend.replicas ?? []) {
      lines.push(
        `  replica ${replica.url}: ${replica.available ? 'in' : 'out'}${replica.reason ? ` — ${replica.reason}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

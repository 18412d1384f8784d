/**
 * `nerion doctor`: for every backend — configured? reachable? model present? strict JSON works? —
 * each failing check with the exact command that fixes it. Engines load lazily through the registry.
 */
import { NerionError, describeError, type CoderBackend } from '@nerion/backend-core';
import { KNOWN_BACKEND_IDS, type NerionConfig, type KnownBackendId } from '@nerion/config';
import { DEFAULT_OLLAMA_BASE_URL } from '@nerion/backend-ollama/settings';
import { DEFAULT_VLLM_BASE_URL } from '@nerion/backend-vllm/settings';
import type { LlamaCppProbeFacts } from '@nerion/backend-llamacpp';
import { createBackendRegistry } from './backends/index.js';
import { baseUrlFor } from './catalog.js';

export type CheckName = 'configured' | 'reachable' | 'model' | 'strict_json' | 'threads';

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
}

export interface DoctorReport {
  backend: KnownBackendId;
  model: string;
  sources: Readonly<Record<string, string>>;
  backends: DoctorBackendReport[];
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
        unconfigured: `export NERION_CODER_BASE_URL=${DEFAULT_OLLAMA_BASE_URL}`,
        unreachable: `ollama serve   # or point NERION_CODER_BASE_URL at your Ollama (now ${baseUrlFor(config, 'ollama')})`,
        missingModel: `nerion models ensure --backend ollama --model ${model}   # or: ollama pull ${model}`,
      };
    case 'llama_cpp':
      return {
        unconfigured: `nerion models ensure --backend llama_cpp --model ${model} --yes   # or: export LLAMA_CPP_MODEL_PATH=/path/to/model.gguf`,
        unreachable: `nerion models ensure --backend llama_cpp --model ${model} --force   # downloads it again; or: export LLAMA_CPP_MODEL_PATH=/path/to/a/valid/model.gguf`,
        missingModel: `nerion models ensure --backend llama_cpp --model ${model} --yes`,
      };
    case 'vllm':
      return {
        unconfigured: `export NERION_CODER_BASE_URL=${DEFAULT_VLLM_BASE_URL}`,
        unreachable: `vllm serve <hf-repo> --served-model-name ${model} --host 127.0.0.1 --port 8000   # or: export NERION_AUTOSTART_VLLM=1`,
        missingModel: `restart vLLM with --served-model-name ${model} (see \`nerion models ensure --backend vllm --model ${model}\`)`,
      };
    case 'exllamav2':
      return {
        unconfigured: `export EXLLAMA_MODEL_DIR=/path/to/exl2/model   # or a TabbyAPI server: export NERION_CODER_BASE_URL=http://localhost:5000`,
        unreachable: `pip install exllamav2   # (and torch for your platform), or run TabbyAPI and set NERION_CODER_BASE_URL`,
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
  const report = (): DoctorBackendReport => ({
    backend,
    model,
    selected,
    usable: checks.every((check) => check.ok === true),
    checks,
  });
  const skip = (...names: CheckName[]): void => {
    for (const check of names) checks.push({ check, ok: null, detail: 'not checked: an earlier check failed' });
  };

  let instance: CoderBackend;
  try {
    instance = await createBackendRegistry().create(backend, model, { config });
    checks.push({ check: 'configured', ok: true, detail: `${backend} is configured for ${model}` });
  } catch (error) {
    checks.push({ check: 'configured', ok: false, detail: describeError(error), fix: fix.unconfigured });
    skip('reachable', 'model', 'strict_json');
    return report();
  }
  try {
    const probe = await instance.probe({ timeoutMs: Math.min(timeoutMs, 5000) });
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
        detail: `${instance.supportsConstrainedDecoding ? 'constrained decoding' : 'validated output'}: ${result.text.trim().slice(0, 60)}`,
      });
      if (backend === 'llama_cpp') {
        // After a generation the model is loaded, so the thread counts are chosen (measured or cached).
        const facts = ((await instance.probe({ timeoutMs: 5000 })).facts ?? {}) as LlamaCppProbeFacts;
        checks.push({ check: 'threads', ok: true, detail: describeThreads(facts) });
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
  return { backend: config.backend, model: config.model, sources: config.sources, backends: reports };
}

export function renderDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const backend of report.backends) {
    lines.push(
      `${backend.backend}${backend.selected ? ' (selected)' : ''} — ${backend.model}: ${backend.usable ? 'usable' : 'not usable'}`,
    );
    for (const check of backend.checks) {
      const mark = check.ok === true ? 'ok  ' : check.ok === false ? 'FAIL' : 'skip';
      lines.push(`  ${mark} ${check.check.padEnd(11)} ${check.detail}`);
      if (check.ok === false && check.fix) lines.push(`       fix: ${check.fix}`);
    }
  }
  return lines.join('\n');
}

import { BACKEND_IDS, type BackendId } from './coder-backend.js';
import { NerionError } from './errors.js';

const BACKEND_ALIASES: Readonly<Record<string, BackendId>> = {
  ollama: 'ollama',
  llama_cpp: 'llama_cpp',
  llamacpp: 'llama_cpp',
  'llama.cpp': 'llama_cpp',
  'llama-cpp': 'llama_cpp',
  vllm: 'vllm',
  exllamav2: 'exllamav2',
  exllama: 'exllamav2',
};

/** `llamacpp` → `llama_cpp`, `exllama` → `exllamav2`; undefined for anything else. */
export function normalizeBackendId(value: string): BackendId | undefined {
  return BACKEND_ALIASES[value.trim().toLowerCase()];
}

/** Like normalizeBackendId, but an unknown name is a CONFIG_INVALID error listing the valid ones. */
export function parseBackendId(value: string, source = 'backend'): BackendId {
  const id = normalizeBackendId(value);
  if (!id) {
    throw new NerionError(
      'CONFIG_INVALID',
      `Unknown ${source} "${value}". Use one of: ${BACKEND_IDS.join(', ')} (aliases: llamacpp, exllama).`,
      {
        data: { value, source },
      },
    );
  }
  return id;
}

export interface ModelReference {
  /** The backend the reference selects, when it carries a prefix such as `ollama:`. */
  backend?: BackendId;
  model: string;
}

/**
 * `ollama:deepseek-coder-v2` → { backend: 'ollama', model: 'deepseek-coder-v2' }.
 * Only a known backend id or alias counts as a prefix, so Ollama tags (`qwen2.5-coder:7b`) stay intact.
 */
export function parseModelReference(reference: string): ModelReference {
  const trimmed = reference.trim();
  if (!trimmed)
    throw new NerionError(
      'CONFIG_INVALID',
      'The model name is empty; set NERION_CODER_MODEL or --model (e.g. qwen2.5-coder).',
    );
  const colon = trimmed.indexOf(':');
  if (colon > 0) {
    const backend = normalizeBackendId(trimmed.slice(0, colon));
    if (backend) {
      const model = trimmed.slice(colon + 1).trim();
      if (!model)
        throw new NerionError(
          'CONFIG_INVALID',
          `The model reference "${reference}" names a backend but no model; write ${trimmed}<model>.`,
        );
      return { backend, model };
    }
  }
  return { model: trimmed };
}

/** Ollama's implicit tag: `qwen2.5-coder` ≡ `qwen2.5-coder:latest`. */
export function normalizeOllamaTag(model: string): string {
  const name = model.trim();
  const lastSlash = name.lastIndexOf('/');
  return name.slice(lastSlash + 1).includes(':') ? name : `${name}:latest`;
}

/** Whether two Ollama model names refer to the same tag. */
export function sameOllamaModel(left: string, right: string): boolean {
  return normalizeOllamaTag(left) === normalizeOllamaTag(right);
}

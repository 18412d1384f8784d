import { NerionError } from '@nerion/backend-core';

/**
 * The backends nerion ships, by id. Core keeps no closed list (a backend id is any string); this list is
 * what the CLI's configuration accepts and the aliases it understands.
 */
export const KNOWN_BACKEND_IDS = ['ollama', 'llama_cpp', 'vllm', 'exllamav2'] as const;
export type KnownBackendId = (typeof KNOWN_BACKEND_IDS)[number];

/** Other spellings of the known ids (any case). */
export const BACKEND_ALIASES: Readonly<Record<string, KnownBackendId>> = {
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
export function normalizeBackendId(value: string): KnownBackendId | undefined {
  return BACKEND_ALIASES[value.trim().toLowerCase()];
}

/** Like normalizeBackendId, but an unknown name is a CONFIG_INVALID error listing the valid ones. */
export function parseBackendId(value: string, source = 'backend'): KnownBackendId {
  const id = normalizeBackendId(value);
  if (!id) {
    throw new NerionError(
      'CONFIG_INVALID',
      `Unknown ${source} "${value}". Use one of: ${KNOWN_BACKEND_IDS.join(', ')} (aliases: llamacpp, exllama).`,
      {
        data: { value, source },
        ...(source.startsWith('--backends') ? {} : { fix: { settings: ['NERION_CODER_BACKEND'] } }),
      },
    );
  }
  return id;
}

export interface ModelReference {
  /** The backend the reference selects, when it carries a prefix such as `ollama:`. */
  backend?: KnownBackendId;
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
      { fix: { settings: ['NERION_CODER_MODEL'] } },
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
          { fix: { settings: ['NERION_CODER_MODEL'] } },
        );
      return { backend, model };
    }
  }
  return { model: trimmed };
}

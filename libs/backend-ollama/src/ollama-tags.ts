import { NerionError } from '@nerion/backend-core';

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

/** The Ollama tag a model reference names: `ollama:qwen2.5-coder:7b` → `qwen2.5-coder:7b`. */
export function ollamaModelName(reference: string): string {
  const trimmed = reference.trim();
  const name = /^ollama:/i.test(trimmed) ? trimmed.slice('ollama:'.length).trim() : trimmed;
  if (!name)
    throw new NerionError(
      'CONFIG_INVALID',
      'The model name is empty; set NERION_CODER_MODEL or --model (e.g. qwen2.5-coder).',
      { fix: { settings: ['NERION_CODER_MODEL'] } },
    );
  return name;
}

/**
 * Ollama's own settings facts — its default endpoint and how it names models — free of the engine client, so
 * the CLI can read them without loading it (`@nerion/backend-ollama/settings`).
 */
import { ollamaHostToBaseUrl } from './ollama-host.js';

export { normalizeOllamaTag, ollamaModelName, sameOllamaModel } from './ollama-tags.js';
export { OLLAMA_DEFAULT_PORT, ollamaHostToBaseUrl, ollamaServeCommand } from './ollama-host.js';

export const DEFAULT_OLLAMA_BASE_URL = 'http://localhost:11434';

/** The endpoint to use: the configured one when given, else Ollama's default. */
export function ollamaBaseUrl(configured?: string): string {
  return configured ?? DEFAULT_OLLAMA_BASE_URL;
}

/**
 * Where Ollama is: the configured base URLs (NERION_OLLAMA_BASE_URL, or NERION_CODER_BASE_URL with Ollama
 * selected; several are replicas), else Ollama's own OLLAMA_HOST read as Ollama reads it, else the default.
 */
export function ollamaEndpoints(configured: readonly string[] | undefined, ollamaHost?: string): string[] {
  if (configured !== undefined && configured.length > 0) return [...configured];
  if (ollamaHost !== undefined && ollamaHost.trim() !== '') return [ollamaHostToBaseUrl(ollamaHost)];
  return [DEFAULT_OLLAMA_BASE_URL];
}

/**
 * Ollama's own settings facts — its default endpoint and how it names models — free of the engine client, so
 * the CLI can read them without loading it (`@nerion/backend-ollama/settings`).
 */
export { normalizeOllamaTag, ollamaModelName, sameOllamaModel } from './ollama-tags.js';

export const DEFAULT_OLLAMA_BASE_URL = 'http://localhost:11434';

/** The endpoint to use: the configured one when given, else Ollama's default. */
export function ollamaBaseUrl(configured?: string): string {
  return configured ?? DEFAULT_OLLAMA_BASE_URL;
}

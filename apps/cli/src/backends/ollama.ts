import { DEFAULT_BASE_URLS, type NerionConfig } from '@nerion/backend-core';
import type { OllamaBackend, OllamaBackendSettings } from '@nerion/backend-ollama';
import type { BackendContext } from './index.js';

/**
 * Maps the resolved config to the Ollama backend's settings. The base URL applies only when Ollama is the
 * selected backend (NERION_CODER_BASE_URL names the selected backend's endpoint); otherwise Ollama's default.
 */
export function ollamaSettingsFromConfig(model: string, config: NerionConfig): OllamaBackendSettings {
  const baseUrl = config.backend === 'ollama' ? (config.baseUrl ?? DEFAULT_BASE_URLS.ollama) : DEFAULT_BASE_URLS.ollama;
  return { model, baseUrl };
}

/** The Ollama backend for `model` (its `pull` serves `nerion models ensure`); the engine loads only here. */
export async function createOllamaFromConfig(model: string, context: BackendContext): Promise<OllamaBackend> {
  const { createOllamaBackend } = await import('@nerion/backend-ollama');
  return createOllamaBackend(ollamaSettingsFromConfig(model, context.config));
}

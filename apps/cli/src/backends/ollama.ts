import { sameOllamaModel } from '@nerion/backend-ollama/settings';
import { type NerionConfig } from '@nerion/config';
import type { OllamaBackend, OllamaBackendSettings } from '@nerion/backend-ollama';
import { resolveModelForBackend } from '@nerion/catalog';
import { endpointsFor, loadCatalogForConfig } from '../catalog.js';
import type { BackendContext } from './index.js';

/**
 * Maps the resolved config to the Ollama backend's settings: Ollama's own endpoint(s) — NERION_OLLAMA_BASE_URL
 * (or NERION_CODER_BASE_URL with Ollama selected), else OLLAMA_HOST, else the default; several are replicas.
 */
export function ollamaSettingsFromConfig(model: string, config: NerionConfig): OllamaBackendSettings {
  return { model, baseUrl: endpointsFor(config, 'ollama') };
}

/**
 * The Ollama backend for `model` (its `pull` serves `nerion models ensure`); the engine loads only here.
 * Names: an explicit tag (`qwen2.5-coder:14b`) or a name the catalog does not know is used as typed. A catalog
 * family name (`deepseek-coder-v2`) means the catalog's tag (`deepseek-coder-v2:16b`, what `models ensure`
 * pulls) — unless Ollama has only `<name>:latest` (what `ollama pull <name>` gives), which is then used.
 */
export async function createOllamaFromConfig(model: string, context: BackendContext): Promise<OllamaBackend> {
  const { createOllamaBackend } = await import('@nerion/backend-ollama');
  const resolution = resolveModelForBackend(loadCatalogForConfig(context.config), 'ollama', model);
  if (!resolution.entry || resolution.name === model || model.includes(':')) {
    return createOllamaBackend(ollamaSettingsFromConfig(model, context.config));
  }
  const catalogTag = createOllamaBackend(ollamaSettingsFromConfig(resolution.name, context.config));
  const probe = await catalogTag.probe();
  if (probe.modelAvailable === false && probe.models?.some((installed) => sameOllamaModel(installed, model))) {
    await catalogTag.close();
    return createOllamaBackend(ollamaSettingsFromConfig(model, context.config));
  }
  return catalogTag;
}

import { NerionError, type CoderBackend } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import type { LlamaCppBackendSettings } from '@nerion/backend-llamacpp';
import { findFamily, findProvisionedGguf, unknownModelError } from '@nerion/catalog';
import { loadCatalogForConfig } from '../catalog.js';
import type { BackendContext } from './index.js';

/**
 * Where llama_cpp's GGUF comes from: LLAMA_CPP_MODEL_PATH when set (the model name is then a label), else
 * the file `nerion models ensure` provisioned for the model's catalog family under NERION_CACHE_DIR.
 */
export function llamaCppModelPath(model: string, config: NerionConfig): string {
  if (config.llamaCpp.modelPath) return config.llamaCpp.modelPath;
  const catalog = loadCatalogForConfig(config);
  const family = findFamily(catalog, model);
  // A name that is neither a catalog model nor backed by a configured file: suggest the nearest names.
  if (family === undefined)
    throw unknownModelError(catalog, model, {
      context: ' and LLAMA_CPP_MODEL_PATH is not set',
      retry: (suggestion) => ['nerion', 'models', 'ensure', '--backend', 'llama_cpp', '--model', suggestion],
    });
  const provisioned = findProvisionedGguf(config.cacheDir, family);
  if (provisioned) return provisioned;
  const reason = `No GGUF file of ${family.id} is provisioned under ${config.cacheDir}`;
  throw new NerionError(
    'MODEL_NOT_FOUND',
    `${reason} — run \`nerion models ensure --backend llama_cpp --model ${family.id}\` to download it, or set LLAMA_CPP_MODEL_PATH=/path/to/model.gguf.`,
    {
      fix: {
        settings: ['LLAMA_CPP_MODEL_PATH'],
        command: ['nerion', 'models', 'ensure', '--backend', 'llama_cpp', '--model', family.id],
      },
      data: { model, backend: 'llama_cpp', cacheDir: config.cacheDir },
    },
  );
}

/** Maps the resolved config to the llama.cpp backend's settings (NERION_LLAMA_THREADS overrides the thread count). */
export function llamaCppSettingsFromConfig(model: string, config: NerionConfig): LlamaCppBackendSettings {
  const modelPath = llamaCppModelPath(model, config);
  return { model, modelPath, ...(config.llamaCpp.threads !== undefined ? { threads: config.llamaCpp.threads } : {}) };
}

/** The in-process llama.cpp backend for `model`; node-llama-cpp loads only here (and the model on first use). */
export async function createLlamaCppFromConfig(model: string, context: BackendContext): Promise<CoderBackend> {
  const settings = llamaCppSettingsFromConfig(model, context.config);
  const { createLlamaCppBackend } = await import('@nerion/backend-llamacpp');
  context.progress?.(
    `llama_cpp: "${model}" runs ${settings.modelPath}${settings.threads !== undefined ? ` with ${settings.threads} threads` : ''}`,
  );
  return createLlamaCppBackend(settings);
}

import { NerionError, type CoderBackend } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import type { LlamaCppBackendSettings } from '@nerion/backend-llamacpp';
import { findFamily, findProvisionedGguf } from '@nerion/catalog';
import { loadCatalogForConfig } from '../catalog.js';
import type { BackendContext } from './index.js';

/**
 * Where llama_cpp's GGUF comes from: LLAMA_CPP_MODEL_PATH when set (the model name is then a label), else
 * the file `nerion models ensure` provisioned for the model's catalog family under NERION_CACHE_DIR.
 */
export function llamaCppModelPath(model: string, config: NerionConfig): string {
  if (config.llamaCpp.modelPath) return config.llamaCpp.modelPath;
  const family = findFamily(loadCatalogForConfig(config), model);
  const provisioned = family === undefined ? undefined : findProvisionedGguf(config.cacheDir, family);
  if (provisioned) return provisioned;
  const reason = family
    ? `No GGUF file of ${family.id} is provisioned under ${config.cacheDir}`
    : `"${model}" is not a catalog model and no GGUF file is configured for it`;
  throw new NerionError(
    'MODEL_NOT_FOUND',
    `${reason} — run \`nerion models ensure --backend llama_cpp --model ${family?.id ?? model}\` to download it, or set LLAMA_CPP_MODEL_PATH=/path/to/model.gguf.`,
    {
      fix: {
        settings: ['LLAMA_CPP_MODEL_PATH'],
        command: ['nerion', 'models', 'ensure', '--backend', 'llama_cpp', '--model', family?.id ?? model],
      },
      data: { model, backend: 'llama_cpp', cacheDir: config.cacheDir },
    },
  );
}

/**
 * Maps the resolved config to the llama.cpp backend's settings: NERION_LLAMA_THREADS overrides the thread
 * counts, which are otherwise measured on a model file's first load and cached under NERION_CACHE_DIR.
 */
export function llamaCppSettingsFromConfig(model: string, config: NerionConfig): LlamaCppBackendSettings {
  const modelPath = llamaCppModelPath(model, config);
  return {
    model,
    modelPath,
    threadCacheDir: config.cacheDir,
    ...(config.llamaCpp.threads !== undefined ? { threads: config.llamaCpp.threads } : {}),
  };
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

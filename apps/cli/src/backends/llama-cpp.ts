import { NerionError, type CoderBackend } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import type { LlamaCppBackendSettings } from '@nerion/backend-llamacpp';
import { findFamily, findProvisionedGguf, unknownModelError, type Catalog } from '@nerion/catalog';
import { loadCatalogForConfig } from '../catalog.js';
import type { BackendContext } from './index.js';

/** The GGUF llama_cpp would run for a model name, and why. */
export interface LlamaCppModelFile {
  path: string;
  /** LLAMA_CPP_MODEL_PATH (every model name runs that file) or a file `nerion models ensure` provisioned. */
  source: 'LLAMA_CPP_MODEL_PATH' | 'provisioned';
}

/**
 * The one rule for "is this llama_cpp model present" (doctor, `models list` and the backend use it):
 * LLAMA_CPP_MODEL_PATH when set (the model name is then a label), else the file `nerion models ensure`
 * provisioned for the model's catalog family under NERION_CACHE_DIR. Undefined when neither.
 */
export function findLlamaCppModelFile(
  model: string,
  config: NerionConfig,
  catalog: Catalog = loadCatalogForConfig(config),
): LlamaCppModelFile | undefined {
  if (config.llamaCpp.modelPath) return { path: config.llamaCpp.modelPath, source: 'LLAMA_CPP_MODEL_PATH' };
  const family = findFamily(catalog, model);
  const provisioned = family === undefined ? undefined : findProvisionedGguf(config.cacheDir, family);
  return provisioned === undefined ? undefined : { path: provisioned, source: 'provisioned' };
}

/** findLlamaCppModelFile's path, or the error that says how to get one (with the nearest names for an unknown one). */
export function llamaCppModelPath(model: string, config: NerionConfig): string {
  const catalog = loadCatalogForConfig(config);
  const file = findLlamaCppModelFile(model, config, catalog);
  if (file) return file.path;
  const family = findFamily(catalog, model);
  // A name that is neither a catalog model nor backed by a configured file: suggest the nearest names.
  if (family === undefined)
    throw unknownModelError(catalog, model, {
      context: ' and LLAMA_CPP_MODEL_PATH is not set',
      retry: (suggestion) => ['nerion', 'models', 'ensure', '--backend', 'llama_cpp', '--model', suggestion],
    });
  throw new NerionError(
    'MODEL_NOT_FOUND',
    `No GGUF file of ${family.id} is provisioned under ${config.cacheDir} — run \`nerion models ensure --backend llama_cpp --model ${family.id}\` to download it, or set LLAMA_CPP_MODEL_PATH=/path/to/model.gguf.`,
    {
      data: { model, backend: 'llama_cpp', cacheDir: config.cacheDir },
      fix: {
        command: ['nerion', 'models', 'ensure', '--backend', 'llama_cpp', '--model', family.id],
        settings: ['LLAMA_CPP_MODEL_PATH'],
      },
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
    llamaBuild: config.llamaCpp.build,
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

import { NerionError, type CoderBackend, type NerionConfig } from '@nerion/backend-core';
import type { LlamaCppBackendSettings } from '@nerion/backend-llamacpp';
import type { BackendContext } from './index.js';

/**
 * Maps the resolved config to the llama.cpp backend's settings: LLAMA_CPP_MODEL_PATH (the model name is then
 * a label) and NERION_LLAMA_THREADS. Without a path there is nothing to run: MODEL_NOT_FOUND with the fix.
 * (Looking up a file provisioned by `nerion models ensure` in the catalog belongs here too, once it exists.)
 */
export function llamaCppSettingsFromConfig(model: string, config: NerionConfig): LlamaCppBackendSettings {
  const modelPath = config.llamaCpp.modelPath;
  if (!modelPath) {
    throw new NerionError(
      'MODEL_NOT_FOUND',
      `No GGUF file is configured for llama_cpp model "${model}" — set LLAMA_CPP_MODEL_PATH=/path/to/model.gguf or run \`nerion models ensure --backend llama_cpp --model ${model}\`.`,
      { data: { model, backend: 'llama_cpp' } },
    );
  }
  return { model, modelPath, ...(config.llamaCpp.threads !== undefined ? { threads: config.llamaCpp.threads } : {}) };
}

/** The in-process llama.cpp backend for `model`; node-llama-cpp loads only here (and the model on first use). */
export async function createLlamaCppFromConfig(model: string, context: BackendContext): Promise<CoderBackend> {
  const settings = llamaCppSettingsFromConfig(model, context.config);
  const { createLlamaCppBackend } = await import('@nerion/backend-llamacpp');
  context.progress?.(`llama_cpp: "${model}" runs ${settings.modelPath}${settings.threads !== undefined ? ` with ${settings.threads} threads` : ''}`);
  return createLlamaCppBackend(settings);
}

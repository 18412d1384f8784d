/**
 * The packaged backends, registered lazily: a factory imports its engine only when called, so
 * `nerion --help` and a plan-cache hit never load node-llama-cpp, openai or ollama.
 * Each backend's file maps the resolved NerionConfig to that package's settings.
 */
import { BackendRegistry } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';

export interface BackendContext {
  config: NerionConfig;
  /** Progress lines for long work (model load, server start); the command decides where they go. */
  progress?: (message: string) => void;
}

export function createBackendRegistry(): BackendRegistry<BackendContext> {
  return new BackendRegistry<BackendContext>()
    .register('ollama', async (model, context) => (await import('./ollama.js')).createOllamaFromConfig(model, context))
    .register('llama_cpp', async (model, context) =>
      (await import('./llama-cpp.js')).createLlamaCppFromConfig(model, context),
    )
    .register('vllm', async (model, context) => (await import('./vllm.js')).createVllmFromConfig(model, context))
    .register('exllamav2', async (model, context) =>
      (await import('./exllama.js')).createExllamaFromConfig(model, context),
    );
}

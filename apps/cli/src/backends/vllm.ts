/**
 * Maps the resolved config to @nerion/backend-vllm:
 * - base URL(s): NERION_VLLM_BASE_URL (or NERION_CODER_BASE_URL when vLLM is selected), else http://localhost:8000;
 *   several are replicas;
 * - autostart's parallelism (NERION_VLLM_*_PARALLEL_SIZE, NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND) and
 *   NERION_VLLM_EXTRA_ARGS as typed settings and an argv list;
 * - the served name and the repo to serve come from the catalog's vLLM entry for the model's family;
 *   a model the catalog does not know is asked for (and served) under its own name;
 * - autostart (NERION_AUTOSTART_VLLM=1): launch command NERION_VLLM_COMMAND (default `vllm serve`), start
 *   timeout NERION_SERVER_START_TIMEOUT, logs and pid files under NERION_CACHE_DIR; the server keeps
 *   running for the next nerion until `nerion models stop`.
 */
import type { CoderBackend } from '@nerion/backend-core';
import type { NerionConfig } from '@nerion/config';
import type { VllmBackendSettings, VllmDistributedExecutorBackend, VllmParallelism } from '@nerion/backend-vllm';
import { findFamily } from '@nerion/catalog';
import { endpointsFor, loadCatalogForConfig } from '../catalog.js';
import type { BackendContext } from './index.js';

export interface VllmModelSource {
  /** The name the server is asked for (`--served-model-name`). */
  servedName: string;
  /** What `vllm serve` loads: the catalog's Hugging Face repo, or the model name itself. */
  repo: string;
  revision?: string;
  /** Whether the catalog knew the model. */
  fromCatalog: boolean;
}

export function vllmModelSource(model: string, config: NerionConfig): VllmModelSource {
  const entry = findFamily(loadCatalogForConfig(config), model)?.backends.vllm;
  if (!entry) return { servedName: model, repo: model, fromCatalog: false };
  return {
    servedName: entry.servedName,
    repo: entry.repo,
    ...(entry.revision ? { revision: entry.revision } : {}),
    fromCatalog: true,
  };
}

/** NERION_VLLM_*_PARALLEL_SIZE and the executor, as @nerion/backend-vllm's typed settings (it checks them). */
export function vllmParallelismFromConfig(config: NerionConfig): VllmParallelism {
  const { distributedExecutorBackend, ...sizes } = config.vllm.parallelism;
  return {
    ...sizes,
    ...(distributedExecutorBackend === undefined
      ? {}
      : { distributedExecutorBackend: distributedExecutorBackend as VllmDistributedExecutorBackend }),
  };
}

export function vllmSettingsFromConfig(model: string, context: BackendContext): VllmBackendSettings {
  const { config } = context;
  const source = vllmModelSource(model, config);
  return {
    model: source.servedName,
    baseUrl: endpointsFor(config, 'vllm'),
    ...(context.progress ? { progress: context.progress } : {}),
    autostart: {
      enabled: config.autostartVllm,
      repo: source.repo,
      cacheDir: config.cacheDir,
      startTimeoutMs: config.serverStartTimeoutMs,
      ...(config.vllm.command ? { command: config.vllm.command } : {}),
      parallelism: vllmParallelismFromConfig(config),
      ...(source.revision || config.vllm.extraArgs
        ? {
            extraArgs: [...(source.revision ? ['--revision', source.revision] : []), ...(config.vllm.extraArgs ?? [])],
          }
        : {}),
    },
  };
}

export async function createVllmFromConfig(model: string, context: BackendContext): Promise<CoderBackend> {
  const { createVllmBackend } = await import('@nerion/backend-vllm');
  return createVllmBackend(vllmSettingsFromConfig(model, context));
}

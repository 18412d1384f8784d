/**
 * Maps the resolved config to @nerion/backend-exllama (experimental):
 * - NERION_EXL_BASE_URL (or NERION_CODER_BASE_URL with exllamav2 selected) → HTTP mode (TabbyAPI,
 *   OpenAI-compatible; several URLs are replicas);
 * - else the Python bridge (NERION_PYTHON) on EXLLAMA_MODEL_DIR, or on the catalog's folder under
 *   `<NERION_CACHE_DIR>/models/exl/<family>`, which NERION_AUTOSTART_EXL=1 prepares (with network consent).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NerionError, redactSecrets, terminalSafe, type CoderBackend } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import type { ExllamaBackendSettings } from '@nerion/backend-exllama';
import { findFamily } from '@nerion/catalog';
import { loadCatalogForConfig } from '../catalog.js';
import type { BackendContext } from './index.js';

/** Where the model folder comes from, and how to make it when it is missing. */
export interface ExllamaModelSource {
  modelDir: string;
  /** The catalog's EXL2 build, when the folder comes from the catalog. */
  catalog?: { family: string; repo: string; revision?: string };
}

/** EXLLAMA_MODEL_DIR when set; else the catalog family's folder under the cache dir (@nerion/backend-exllama's layout). */
export async function exllamaModelSource(model: string, config: NerionConfig): Promise<ExllamaModelSource> {
  if (config.exllama.modelDir) return { modelDir: config.exllama.modelDir };
  const family = findFamily(loadCatalogForConfig(config), model);
  const familyId = family?.id ?? model;
  const { exllamaModelDir } = await import('@nerion/backend-exllama');
  const modelDir = exllamaModelDir(config.cacheDir, familyId);
  const entry = family?.backends.exllamav2;
  return entry
    ? {
        modelDir,
        catalog: { family: familyId, repo: entry.repo, ...(entry.revision ? { revision: entry.revision } : {}) },
      }
    : { modelDir };
}

export function exllamaSettingsFromConfig(
  model: string,
  config: NerionConfig,
  modelDir: string | undefined,
): ExllamaBackendSettings {
  const baseUrl = config.endpoints.exllamav2;
  return {
    model,
    modelDir,
    python: config.exllama.python,
    ...(baseUrl ? { baseUrl } : {}),
    // The one warning when Python or the bindings are missing: stderr, so stdout stays parseable.
    onWarning: (message) =>
      process.stderr.write(`${terminalSafe(`Warning: exllamav2 backend unavailable — ${redactSecrets(message)}`)}\n`),
  };
}

export async function createExllamaFromConfig(model: string, context: BackendContext): Promise<CoderBackend> {
  const { config } = context;
  const { createExllamaBackend, prepareExllamaModelDir } = await import('@nerion/backend-exllama');
  if (config.endpoints.exllamav2) return createExllamaBackend(exllamaSettingsFromConfig(model, config, undefined));

  const source = await exllamaModelSource(model, config);
  if (config.autostartExl && !existsSync(join(source.modelDir, 'config.json'))) {
    if (config.exllama.modelDir) {
      throw new NerionError(
        'MODEL_NOT_FOUND',
        `EXLLAMA_MODEL_DIR=${config.exllama.modelDir} holds no exllamav2 model (config.json is missing); NERION_AUTOSTART_EXL prepares only the catalog's folder — unset EXLLAMA_MODEL_DIR to use it, or point EXLLAMA_MODEL_DIR at an EXL2 model folder.`,
        { fix: { settings: ['EXLLAMA_MODEL_DIR'] }, data: { modelDir: config.exllama.modelDir } },
      );
    }
    if (!source.catalog) {
      throw new NerionError(
        'MODEL_NOT_FOUND',
        `NERION_AUTOSTART_EXL=1, but the catalog has no exllamav2 (EXL2) build of "${model}" to fetch — set EXLLAMA_MODEL_DIR to a folder holding an EXL2 model, or choose a model with an EXL2 build (\`nerion models list\`).`,
        { fix: { settings: ['EXLLAMA_MODEL_DIR'], command: ['nerion', 'models', 'list'] }, data: { model } },
      );
    }
    context.progress?.(
      `Preparing the exllamav2 model ${source.catalog.repo}${source.catalog.revision ? `@${source.catalog.revision}` : ''} in ${source.modelDir} …`,
    );
    await prepareExllamaModelDir({
      model: source.catalog.family,
      repo: source.catalog.repo,
      ...(source.catalog.revision ? { revision: source.catalog.revision } : {}),
      cacheDir: config.cacheDir,
      allowNetwork: config.allowNetwork,
      ...(context.progress ? { onProgress: context.progress } : {}),
    });
  }
  return createExllamaBackend(exllamaSettingsFromConfig(model, config, source.modelDir));
}

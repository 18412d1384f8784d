/**
 * NERION_CODER_AUTO=1: probe every backend × catalog model concurrently (bounded), then let
 * @nerion/catalog's chooseAutoSelection rank what is actually available for this task and machine,
 * using the last `nerion models bench` figures (@nerion/bench's readBenchFigures) when there are any.
 */
import { freemem, totalmem } from 'node:os';
import { describeError } from '@nerion/backend-core';
import { KNOWN_BACKEND_IDS, type AutoSelection, type NerionConfig, type KnownBackendId } from '@nerion/config';
import {
  chooseAutoSelection,
  findFamily,
  profileTask,
  type AutoCandidate,
  type AutoSelectResult,
  type CatalogFamily,
} from '@nerion/catalog';
import { createBackendRegistry } from './backends/index.js';
import { exllamaModelSource } from './backends/exllama.js';
import { loadCatalogForConfig } from './catalog.js';

const PROBE_TIMEOUT_MS = 2500;

interface Combination {
  backend: KnownBackendId;
  family?: CatalogFamily;
  model: string;
}

/**
 * Every backend × catalog model worth probing. What a flag, variable or config file chose stays fixed:
 * an explicit backend limits the backends, an explicit model limits the models.
 */
function combinations(config: NerionConfig): Combination[] {
  const catalog = loadCatalogForConfig(config);
  const list: Combination[] = [];
  const backends = config.sources.backend === 'default' ? KNOWN_BACKEND_IDS : [config.backend];
  const chosenFamily = config.sources.model === 'default' ? undefined : findFamily(catalog, config.model);
  const families = config.sources.model === 'default' ? catalog.families : chosenFamily ? [chosenFamily] : [];
  for (const backend of backends) {
    if (config.sources.model !== 'default' && !chosenFamily) {
      // A model the catalog does not know: the only candidate on each backend is that name itself.
      list.push({ backend, model: config.model });
      continue;
    }
    if (backend === 'llama_cpp' && config.llamaCpp.modelPath) {
      // One configured file serves llama_cpp: it is one candidate, whatever it is called.
      const family = findFamily(catalog, config.model);
      list.push({ backend, model: config.model, ...(family ? { family } : {}) });
      continue;
    }
    if (backend === 'exllamav2' && config.exllama.modelDir) {
      const family = findFamily(catalog, config.model);
      list.push({ backend, model: config.model, ...(family ? { family } : {}) });
      continue;
    }
    for (const family of families) {
      if (!family.backends[backend]) continue;
      list.push({ backend, family, model: family.id });
    }
  }
  return list;
}

async function availability(combination: Combination, config: NerionConfig): Promise<AutoCandidate> {
  const base = {
    backend: combination.backend,
    model: combination.model,
    ...(combination.family ? { family: combination.family } : {}),
  };
  // A local exllamav2 model folder that does not exist cannot be served: say so without spawning Python.
  if (combination.backend === 'exllamav2' && !config.endpoints.exllamav2) {
    const { modelDir } = await exllamaModelSource(combination.model, config);
    const { hasExllamaModel } = await import('@nerion/backend-exllama');
    if (!hasExllamaModel(modelDir))
      return { ...base, available: false, reason: `no exllamav2 model (config.json and .safetensors) in ${modelDir}` };
  }
  let backend;
  try {
    backend = await createBackendRegistry().create(combination.backend, combination.model, { config });
  } catch (error) {
    return { ...base, available: false, reason: describeError(error) };
  }
  try {
    const probe = await backend.probe({ timeoutMs: PROBE_TIMEOUT_MS });
    const available = probe.available && probe.modelAvailable !== false;
    return { ...base, available, ...(available ? {} : { reason: probe.reason ?? 'not available' }) };
  } finally {
    await backend.close();
  }
}

export interface AutoSelectOptions {
  instruction: string;
  targetFile?: string;
  repoFileCount?: number;
  warn?: (message: string) => void;
}

/** Probes, ranks and returns the choice with its reasons; NOT_AVAILABLE when nothing is available. */
export async function autoSelect(
  config: NerionConfig,
  options: AutoSelectOptions,
): Promise<AutoSelectResult & { selection: AutoSelection }> {
  const warn = options.warn ?? (() => undefined);
  const candidates = await Promise.all(combinations(config).map((combination) => availability(combination, config)));
  const { readBenchFigures } = await import('@nerion/bench');
  const result = chooseAutoSelection({
    candidates,
    task: profileTask({
      instruction: options.instruction,
      ...(options.targetFile ? { targetFile: options.targetFile } : {}),
      ...(options.repoFileCount !== undefined ? { repoFileCount: options.repoFileCount } : {}),
    }),
    memory: { totalBytes: totalmem(), freeBytes: freemem() },
    bench: readBenchFigures(config.cacheDir, warn),
  });
  return { ...result, selection: { backend: result.backend, model: result.model, reasons: result.reasons } };
}

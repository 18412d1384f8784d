import { NerionError, describeError } from '@nerion/backend-core';
import { sameOllamaModel } from '@nerion/backend-ollama/settings';
import type { KnownBackendId, NerionConfig } from '@nerion/config';
import {
  CATALOG_BACKENDS,
  findProvisionedGguf,
  resolveModelForBackend,
  type Catalog,
  type CatalogFamily,
} from '@nerion/catalog';
import type * as ExllamaModule from '@nerion/backend-exllama';
import { NerionCommand } from '../../base-command.js';
import { baseUrlFor, loadCatalogForConfig } from '../../catalog.js';

/** installed: usable now; missing: known build, not here; no-build: the catalog has none; unknown: the engine did not answer. */
export type ModelState = 'installed' | 'missing' | 'no-build' | 'unknown';

export interface ModelListEntry {
  backend: KnownBackendId;
  /** The backend-specific name (Ollama tag, GGUF file, vLLM served name, EXL2 repo). */
  name?: string;
  state: ModelState;
  /** Where it is (file, directory, endpoint), when installed. */
  location?: string;
  /** Why the state is what it is, when not installed. */
  detail?: string;
}

export interface ModelListFamily {
  id: string;
  aliases: string[];
  displayName: string;
  parametersB: number;
  contextLength: number;
  memoryGb: number;
  languages: string[];
  strengths: string[];
  source: string;
  backends: ModelListEntry[];
}

export interface ModelListResult {
  catalogSources: string[];
  families: ModelListFamily[];
}

interface EngineView {
  /** Names the engine serves now, or undefined when it did not answer. */
  models: readonly string[] | undefined;
  endpoint: string;
  reason?: string;
}

export default class ModelsList extends NerionCommand {
  static override summary = 'List catalog families × backends, with what is installed or available now.';
  static override description =
    'llama_cpp: a provisioned GGUF is present; ollama: the tag is in /api/tags of the running Ollama; vllm: the server at the vLLM URL serves it; exllamav2: the model directory holds config.json and .safetensors files.';
  static override examples = [
    '<%= config.bin %> models list',
    '<%= config.bin %> models list --json',
    'NERION_MODEL_CATALOG=~/my-catalog.yaml <%= config.bin %> models list',
  ];

  async run(): Promise<ModelListResult> {
    await this.parse(ModelsList);
    const config = this.resolveConfig();
    const catalog = loadCatalogForConfig(config);
    const [ollama, vllm] = await Promise.all([this.ollamaView(config), this.vllmView(config)]);
    const exllama = await import('@nerion/backend-exllama');
    const families = catalog.families.map((family) => describeFamily(catalog, family, config, ollama, vllm, exllama));
    const result: ModelListResult = { catalogSources: [...catalog.sources], families };
    if (!this.jsonEnabled()) this.render(result, ollama, vllm);
    return result;
  }

  private render(result: ModelListResult, ollama: EngineView, vllm: EngineView): void {
    const header = ['family', ...CATALOG_BACKENDS, 'memory_gb', 'params_b'];
    const rows = result.families.map((family) => [
      family.id,
      ...CATALOG_BACKENDS.map((backend) => family.backends.find((entry) => entry.backend === backend)!.state),
      String(family.memoryGb),
      String(family.parametersB),
    ]);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
    const line = (cells: string[]): string =>
      cells
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd();
    this.log(line(header));
    for (const row of rows) this.log(line(row));
    for (const family of result.families) {
      for (const entry of family.backends)
        if (entry.state === 'installed' && entry.location)
          this.log(`  ${family.id} / ${entry.backend}: ${entry.location}`);
    }
    if (ollama.reason) this.note(`ollama: ${ollama.reason}`);
    if (vllm.reason) this.note(`vllm: ${vllm.reason}`);
    this.note(
      `Catalog: ${result.catalogSources.join(' + ')}. Provision with \`nerion models ensure --backend <b> --model <family>\`.`,
    );
  }

  /** Through the Ollama backend's probe (lazily imported), which reads /api/tags. */
  private async ollamaView(config: NerionConfig): Promise<EngineView> {
    const endpoint = baseUrlFor(config, 'ollama');
    const ollama = await import('@nerion/backend-ollama');
    const backend = ollama.createOllamaBackend({
      model: 'nerion-models-list',
      baseUrl: endpoint,
      probeTimeoutMs: 1500,
    });
    try {
      const probe = await backend.probe();
      if (probe.reachable === false)
        return { models: undefined, endpoint, reason: probe.reason ?? `Ollama is not answering at ${endpoint}.` };
      return { models: probe.models ?? [], endpoint };
    } finally {
      await backend.close();
    }
  }

  /** The served models of the vLLM server, through @nerion/backend-openai-compatible (lazily imported). */
  private async vllmView(config: NerionConfig): Promise<EngineView> {
    const endpoint = baseUrlFor(config, 'vllm');
    const { listOpenAICompatibleModels } = await import('@nerion/backend-openai-compatible');
    try {
      return { models: await listOpenAICompatibleModels({ baseUrl: endpoint, timeoutMs: 1500 }), endpoint };
    } catch (error) {
      const data = NerionError.isInstance(error) ? error.data : {};
      const failure = data.failure;
      if (failure === 'http-status')
        return { models: undefined, endpoint, reason: `${endpoint}/v1/models answered HTTP ${String(data.status)}.` };
      if (failure === 'unexpected-body')
        return {
          models: undefined,
          endpoint,
          reason: `${endpoint}/v1/models did not answer like an OpenAI-compatible server.`,
        };
      const cause = failure === 'unreachable' ? (error as NerionError).cause : error;
      return {
        models: undefined,
        endpoint,
        reason: `No vLLM server answers at ${endpoint} (${describeError(cause)}); start one with the command \`nerion models ensure --backend vllm --model <family>\` prints.`,
      };
    }
  }
}

function describeFamily(
  catalog: Catalog,
  family: CatalogFamily,
  config: NerionConfig,
  ollama: EngineView,
  vllm: EngineView,
  exllama: Pick<typeof ExllamaModule, 'exllamaModelDir' | 'hasExllamaModel'>,
): ModelListFamily {
  const backends = CATALOG_BACKENDS.map((backend): ModelListEntry => {
    const resolution = resolveModelForBackend(catalog, backend, family.id);
    if (!resolution.entry) return { backend, state: 'no-build', detail: resolution.missingEntry };
    const name = resolution.name;
    switch (backend) {
      case 'llama_cpp': {
        const path = findProvisionedGguf(config.cacheDir, family);
        return path
          ? { backend, name, state: 'installed', location: path }
          : {
              backend,
              name,
              state: 'missing',
              detail: `run \`nerion models ensure --backend llama_cpp --model ${family.id}\``,
            };
      }
      case 'ollama': {
        if (!ollama.models) return { backend, name, state: 'unknown', detail: ollama.reason };
        const found = ollama.models.some((model) => sameOllamaModel(model, name));
        return found
          ? { backend, name, state: 'installed', location: ollama.endpoint }
          : {
              backend,
              name,
              state: 'missing',
              detail: `run \`nerion models ensure --backend ollama --model ${family.id}\``,
            };
      }
      case 'vllm': {
        if (!vllm.models) return { backend, name, state: 'unknown', detail: vllm.reason };
        const served = vllm.models.some((model) => model === name || resolution.alternatives.includes(model));
        return served
          ? { backend, name, state: 'installed', location: vllm.endpoint }
          : { backend, name, state: 'missing', detail: `the server at ${vllm.endpoint} does not serve it` };
      }
      default: {
        const directory = exllama.exllamaModelDir(config.cacheDir, family.id);
        const present = exllama.hasExllamaModel(directory);
        return present
          ? { backend, name, state: 'installed', location: directory }
          : {
              backend,
              name,
              state: 'missing',
              detail: `run \`nerion models ensure --backend exllamav2 --model ${family.id}\``,
            };
      }
    }
  });
  return {
    id: family.id,
    aliases: [...family.aliases],
    displayName: family.displayName,
    parametersB: family.parametersB,
    contextLength: family.contextLength,
    memoryGb: family.memoryGb,
    languages: [...family.languages],
    strengths: [...family.strengths],
    source: family.source,
    backends,
  };
}

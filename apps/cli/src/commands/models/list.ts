import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NerionError, connectionFailure, describeError, formatBytes } from '@nerion/backend-core';
import { sameOllamaModel } from '@nerion/backend-ollama/settings';
import type { KnownBackendId, NerionConfig } from '@nerion/config';
import {
  CATALOG_BACKENDS,
  ggufDirectory,
  resolveModelForBackend,
  type Catalog,
  type CatalogFamily,
} from '@nerion/catalog';
import type * as ExllamaModule from '@nerion/backend-exllama';
import type * as OllamaModule from '@nerion/backend-ollama';
import type * as OpenAICompatibleModule from '@nerion/backend-openai-compatible';
import { NerionCommand } from '../../base-command.js';
import { findLlamaCppModelFile } from '../../backends/llama-cpp.js';
import { endpointsFor, loadCatalogForConfig } from '../../catalog.js';
import { sizeOnDisk } from '../../disk-size.js';

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
  /** Bytes on disk, when installed and known (a file, a folder, or Ollama's /api/tags size). */
  sizeBytes?: number;
  /** llama_cpp: LLAMA_CPP_MODEL_PATH (every model name runs that file) or provisioned. */
  source?: string;
  /** ollama / vllm with several base URLs (replicas): the state on each, in the order configured. */
  replicas?: ReplicaModelState[];
}

/** One replica's view of a family's build. */
export interface ReplicaModelState {
  endpoint: string;
  state: 'installed' | 'missing' | 'unknown';
  /** Why not installed (the replica's error when it did not answer). */
  detail?: string;
}

/** Installed and not one of the catalog's builds: other Ollama tags, other GGUFs, other served models. */
export interface OtherInstalledModel {
  backend: KnownBackendId;
  name: string;
  /** File, folder or endpoint. */
  location: string;
  sizeBytes?: number;
  /** How it got there: LLAMA_CPP_MODEL_PATH, cache folder, endpoint. */
  source?: string;
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
  /** What is installed outside the catalog's builds. */
  others: OtherInstalledModel[];
}

interface ReplicaView {
  /** What the engine has or serves now (with size on disk when it says), or undefined when it did not answer. */
  models: readonly { name: string; sizeBytes?: number }[] | undefined;
  endpoint: string;
  reason?: string;
}

/** An HTTP engine's replicas (one entry without replicas), each listed on its own. */
interface EngineView {
  replicas: readonly ReplicaView[];
}

export default class ModelsList extends NerionCommand {
  static override summary = 'List catalog families × backends, and every model installed here, with its size on disk.';
  static override description = [
    'llama_cpp: LLAMA_CPP_MODEL_PATH is set (every model name runs that file — doctor uses the same rule) or a provisioned GGUF is present; ollama: the tag is in /api/tags of the running Ollama; vllm: the server at the vLLM URL serves it (with replicas, every replica is read and its state shown); exllamav2: the model directory holds config.json and .safetensors files.',
    'Below the table: where each installed build is and its size, then what is installed outside the catalog (other Ollama tags, other GGUFs in the cache folder, other exllamav2 folders, other models the vLLM server serves).',
  ].join('\n');
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
    const others = findOthers(families, config, ollama, vllm, exllama);
    const result: ModelListResult = { catalogSources: [...catalog.sources], families, others };
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
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const line = (cells: string[]): string =>
      cells
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd();
    this.log(line(header));
    for (const row of rows) this.log(line(row));
    const size = (bytes: number | undefined): string => (bytes === undefined ? '' : ` (${formatBytes(bytes)})`);
    for (const family of result.families) {
      for (const entry of family.backends)
        if (entry.state === 'installed' && entry.location)
          this.log(
            `  ${family.id} / ${entry.backend}: ${entry.location}${size(entry.sizeBytes)}${entry.source === 'LLAMA_CPP_MODEL_PATH' ? ' [LLAMA_CPP_MODEL_PATH]' : ''}${entry.replicas && entry.detail ? ` — ${entry.detail}` : ''}`,
          );
    }
    if (result.others.length > 0) {
      this.log('Installed outside the catalog:');
      for (const other of result.others)
        this.log(`  ${other.backend} / ${other.name}: ${other.location}${size(other.sizeBytes)}`);
    }
    for (const [backend, view] of [
      ['ollama', ollama],
      ['vllm', vllm],
    ] as const)
      for (const replica of view.replicas)
        if (replica.reason)
          this.note(`${backend}${view.replicas.length > 1 ? ` (${replica.endpoint})` : ''}: ${replica.reason}`);
    this.note(
      `Catalog: ${result.catalogSources.join(' + ')}. Provision with \`nerion models ensure --backend <b> --model <family>\`.`,
    );
  }

  /** Ollama's /api/tags on every replica, with sizes, through @nerion/backend-ollama (lazily imported). */
  private async ollamaView(config: NerionConfig): Promise<EngineView> {
    const { listInstalledOllamaModels } = await import('@nerion/backend-ollama');
    return {
      replicas: await Promise.all(
        endpointsFor(config, 'ollama').map((endpoint) => this.ollamaReplica(endpoint, listInstalledOllamaModels)),
      ),
    };
  }

  private async ollamaReplica(
    endpoint: string,
    listInstalledOllamaModels: typeof OllamaModule.listInstalledOllamaModels,
  ): Promise<ReplicaView> {
    try {
      const models = await listInstalledOllamaModels({ baseUrl: endpoint }, { timeoutMs: 1500 });
      return { models: models.map((model) => ({ name: model.name, sizeBytes: model.sizeBytes })), endpoint };
    } catch (error) {
      return { models: undefined, endpoint, reason: describeError(error) };
    }
  }

  /** The served models of every vLLM replica, through @nerion/backend-openai-compatible (lazily imported). */
  private async vllmView(config: NerionConfig): Promise<EngineView> {
    const { listOpenAICompatibleModels } = await import('@nerion/backend-openai-compatible');
    return {
      replicas: await Promise.all(
        endpointsFor(config, 'vllm').map((endpoint) => this.vllmReplica(endpoint, listOpenAICompatibleModels)),
      ),
    };
  }

  private async vllmReplica(
    endpoint: string,
    listOpenAICompatibleModels: typeof OpenAICompatibleModule.listOpenAICompatibleModels,
  ): Promise<ReplicaView> {
    try {
      const served = await listOpenAICompatibleModels({ baseUrl: endpoint, timeoutMs: 1500 });
      return { models: served.map((name) => ({ name })), endpoint };
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
      const connection = connectionFailure(cause);
      return {
        models: undefined,
        endpoint,
        reason: `No vLLM server answers at ${endpoint} (${connection ? `${connection.reason}, ${connection.code}` : describeError(cause)}); start one with the command \`nerion models ensure --backend vllm --model <family>\` prints.`,
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
    // The same rule as doctor and the backend: LLAMA_CPP_MODEL_PATH runs for every name, else the provisioned file.
    const file = backend === 'llama_cpp' ? findLlamaCppModelFile(family.id, config, catalog) : undefined;
    if (file)
      return {
        backend,
        name: basename(file.path),
        state: 'installed',
        location: file.path,
        source: file.source,
        ...sized(file.path),
      };
    if (!resolution.entry) return { backend, state: 'no-build', detail: resolution.missingEntry };
    const name = resolution.name;
    switch (backend) {
      case 'llama_cpp': {
        return {
          backend,
          name,
          state: 'missing',
          detail: `run \`nerion models ensure --backend llama_cpp --model ${family.id}\``,
        };
      }
      case 'ollama':
        return replicatedEntry(backend, name, ollama, (model) => sameOllamaModel(model.name, name), {
          single: () => `run \`nerion models ensure --backend ollama --model ${family.id}\``,
          replica: () =>
            `not pulled there (\`nerion models ensure --backend ollama --model ${family.id}\` pulls into each)`,
        });
      case 'vllm':
        return replicatedEntry(
          backend,
          name,
          vllm,
          (model) => model.name === name || resolution.alternatives.includes(model.name),
          {
            single: (endpoint) => `the server at ${endpoint} does not serve it`,
            replica: () => 'not served there',
          },
        );
      default: {
        const directory = exllama.exllamaModelDir(config.cacheDir, family.id);
        const present = exllama.hasExllamaModel(directory);
        return present
          ? { backend, name, state: 'installed', location: directory, ...sized(directory) }
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

/**
 * An HTTP engine's entry for one build, from each replica's list: installed where any replica has it (the
 * router fails over to those), `location` naming them all; with several replicas, `replicas` gives the state
 * on each and, when they differ, `detail` says where it is missing or which did not answer.
 */
function replicatedEntry(
  backend: KnownBackendId,
  name: string,
  view: EngineView,
  has: (model: { name: string; sizeBytes?: number }) => boolean,
  missing: { single: (endpoint: string) => string; replica: () => string },
): ModelListEntry {
  const states: ReplicaModelState[] = view.replicas.map((replica) => {
    if (!replica.models) return { endpoint: replica.endpoint, state: 'unknown', detail: replica.reason ?? '' };
    return replica.models.some(has)
      ? { endpoint: replica.endpoint, state: 'installed' }
      : { endpoint: replica.endpoint, state: 'missing', detail: missing.replica() };
  });
  const several = states.length > 1;
  const perReplica = several ? { replicas: states } : {};
  const holders = view.replicas.filter((_, index) => states[index].state === 'installed');
  if (holders.length === 0) {
    const answered = states.find((state) => state.state === 'missing');
    if (!answered)
      return { backend, name, state: 'unknown', detail: states.map((state) => state.detail).join('; '), ...perReplica };
    return { backend, name, state: 'missing', detail: missing.single(answered.endpoint), ...perReplica };
  }
  const size = holders[0].models!.find(has)?.sizeBytes;
  const elsewhere = states
    .filter((state) => state.state !== 'installed')
    .map((state) =>
      state.state === 'missing' ? `missing on ${state.endpoint}` : `${state.endpoint} did not answer (${state.detail})`,
    );
  return {
    backend,
    name,
    state: 'installed',
    location: holders.map((replica) => replica.endpoint).join(', '),
    ...(size === undefined ? {} : { sizeBytes: size }),
    ...(elsewhere.length > 0 ? { detail: elsewhere.join('; ') } : {}),
    ...perReplica,
  };
}

function sized(path: string): { sizeBytes?: number } {
  const bytes = sizeOnDisk(path);
  return bytes === undefined ? {} : { sizeBytes: bytes };
}

/** Installed models that are not a catalog family's build: other Ollama tags, GGUFs, exllamav2 folders, served names. */
function findOthers(
  families: readonly ModelListFamily[],
  config: NerionConfig,
  ollama: EngineView,
  vllm: EngineView,
  exllama: Pick<typeof ExllamaModule, 'exllamaModelDir' | 'hasExllamaModel'>,
): OtherInstalledModel[] {
  const known = (backend: string): ModelListEntry[] =>
    families.flatMap((family) =>
      family.backends.filter((entry) => entry.backend === backend && entry.state === 'installed'),
    );
  const others: OtherInstalledModel[] = [];
  for (const replica of ollama.replicas)
    for (const model of replica.models ?? [])
      if (!known('ollama').some((entry) => entry.name !== undefined && sameOllamaModel(model.name, entry.name)))
        others.push({
          backend: 'ollama',
          name: model.name,
          location: replica.endpoint,
          ...(model.sizeBytes === undefined ? {} : { sizeBytes: model.sizeBytes }),
          source: 'endpoint',
        });
  const ggufPaths = new Set(known('llama_cpp').map((entry) => entry.location));
  const configured = config.llamaCpp.modelPath;
  if (configured !== undefined && !ggufPaths.has(configured) && existsSync(configured)) {
    others.push({
      backend: 'llama_cpp',
      name: basename(configured),
      location: configured,
      ...sized(configured),
      source: 'LLAMA_CPP_MODEL_PATH',
    });
    ggufPaths.add(configured);
  }
  for (const name of listFolder(ggufDirectory(config.cacheDir)))
    if (/\.gguf$/i.test(name)) {
      const path = join(ggufDirectory(config.cacheDir), name);
      if (!ggufPaths.has(path))
        others.push({ backend: 'llama_cpp', name, location: path, ...sized(path), source: 'cache folder' });
    }
  const exlRoot = dirname(exllama.exllamaModelDir(config.cacheDir, 'x'));
  const exlKnown = new Set(known('exllamav2').map((entry) => entry.location));
  for (const name of listFolder(exlRoot)) {
    const path = join(exlRoot, name);
    if (!exlKnown.has(path) && exllama.hasExllamaModel(path))
      others.push({ backend: 'exllamav2', name, location: path, ...sized(path), source: 'cache folder' });
  }
  for (const replica of vllm.replicas)
    for (const model of replica.models ?? [])
      if (!known('vllm').some((entry) => entry.name === model.name))
        others.push({ backend: 'vllm', name: model.name, location: replica.endpoint, source: 'endpoint' });
  return others;
}

function listFolder(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

import { freemem, totalmem } from 'node:os';
import { Flags } from '@oclif/core';
import { NerionError } from '@nerion/backend-core';
import { type NerionConfig, type KnownBackendId } from '@nerion/config';
import {
  findFamily,
  provisionGguf,
  resolveFamily,
  resolveModelForBackend,
  selectModelForMachine,
  type Catalog,
  type CatalogFamily,
} from '@nerion/catalog';
import { NerionCommand } from '../../base-command.js';
import {
  baseUrlFor,
  consentFor,
  createByteProgressRenderer,
  endpointsFor,
  loadCatalogForConfig,
} from '../../catalog.js';

export interface EnsureResult {
  backend: KnownBackendId;
  /** The model as asked for (or chosen by --auto). */
  model: string;
  family?: string;
  /** present: nothing to do; downloaded / pulled: fetched now; instructions: run the printed commands. */
  status: 'present' | 'downloaded' | 'pulled' | 'instructions';
  path?: string;
  url?: string;
  sha256?: string;
  /** For downloads: whether the sha256 was checked against an expected value. */
  verified?: boolean;
  commands?: string[][];
  env?: Record<string, string>;
  /** Why --auto chose this model. */
  reasons?: string[];
}

export default class ModelsEnsure extends NerionCommand {
  static override summary = 'Make a model usable: Ollama pull, GGUF download, or the exact vLLM/exllamav2 commands.';
  static override description = [
    'llama_cpp: downloads the GGUF from the catalog (or LLAMA_CPP_MODEL_URL) into $NERION_CACHE_DIR/models/llama.cpp/ with resume, sha256 check and a disk-space check.',
    'ollama: pulls the tag through the running Ollama. vllm / exllamav2: prints the exact commands and paths.',
    'Downloads need consent: NERION_ALLOW_NETWORK=1, --yes, or answering y at the prompt on a terminal. Without it nothing is fetched and the exit status is 4.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> models ensure --auto',
    '<%= config.bin %> models ensure --backend llama_cpp --model qwen2.5-coder --yes',
    '<%= config.bin %> models ensure --backend ollama --model qwen2.5-coder:14b --yes',
    '<%= config.bin %> models ensure --backend vllm --model codellama',
  ];
  static override flags = {
    auto: Flags.boolean({
      summary: 'Choose the best model for this machine (by memory) and provision it if missing.',
      default: false,
    }),
    backend: Flags.string({ summary: 'Backend to provision for (ollama, llama_cpp, vllm, exllamav2).' }),
    model: Flags.string({ summary: 'Model family or alias (see `nerion models list`); for ollama any tag.' }),
    yes: Flags.boolean({ char: 'y', summary: 'Consent to downloads without a prompt.', default: false }),
    verify: Flags.boolean({
      summary: 'llama_cpp: re-hash a GGUF that is already present instead of trusting its record.',
      default: false,
    }),
    force: Flags.boolean({
      summary: 'llama_cpp: download the GGUF again even when it is present (needs consent like any download).',
      default: false,
    }),
  };

  async run(): Promise<EnsureResult> {
    const { flags } = await this.parse(ModelsEnsure);
    const config = this.resolveConfig({
      backend: flags.backend,
      model: flags.model,
      yes: flags.yes,
      // --backend names what to provision, not the user's choice: each backend keeps its own endpoint.
      combination: true,
    });
    const catalog = loadCatalogForConfig(config);
    const backend = config.backend;
    let model = config.model;
    let reasons: string[] | undefined;
    if (flags.auto && flags.model === undefined) {
      const selection = selectModelForMachine(catalog, { totalBytes: totalmem(), freeBytes: freemem() }, { backend });
      model = selection.family.id;
      reasons = [...selection.reasons];
      this.note(`Auto-selected ${model} for ${backend}: ${selection.reasons.join(' ')}`);
    }
    const result = await this.ensure(config, catalog, backend, model, { verify: flags.verify, force: flags.force });
    return reasons ? { ...result, reasons } : result;
  }

  private async ensure(
    config: NerionConfig,
    catalog: Catalog,
    backend: KnownBackendId,
    model: string,
    gguf: { verify: boolean; force: boolean },
  ): Promise<EnsureResult> {
    switch (backend) {
      case 'llama_cpp':
        return this.ensureGguf(config, catalog, model, gguf);
      case 'ollama':
        return this.ensureOllama(config, catalog, model);
      case 'vllm':
        return this.ensureVllm(config, catalog, model);
      case 'exllamav2':
        return this.ensureExllama(config, catalog, model);
    }
  }

  /** vLLM fetches its own model on first start: @nerion/backend-vllm gives the exact serve command. */
  private async ensureVllm(config: NerionConfig, catalog: Catalog, model: string): Promise<EnsureResult> {
    const family = resolveFamily(catalog, model, { retry: ensureRetry('vllm') });
    const entry = catalogEntry(family, 'vllm', 'vLLM');
    // The vLLM endpoint (NERION_VLLM_BASE_URL, or NERION_CODER_BASE_URL with vLLM selected): the command
    // listens where nerion will look, with the configured launch command, parallelism and extra arguments.
    const url = new URL(baseUrlFor(config, 'vllm'));
    const { ensureVllmModel } = await import('@nerion/backend-vllm');
    const { vllmParallelismFromConfig } = await import('../../backends/vllm.js');
    const ensured = ensureVllmModel({
      model: family.id,
      displayName: family.displayName,
      repo: entry.repo,
      ...(entry.revision ? { revision: entry.revision } : {}),
      servedName: entry.servedName,
      host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      ...(config.vllm.command ? { command: config.vllm.command } : {}),
      parallelism: vllmParallelismFromConfig(config),
      ...(config.vllm.extraArgs ? { extraArgs: config.vllm.extraArgs } : {}),
    });
    this.log(ensured.lines.join('\n'));
    return {
      backend: 'vllm',
      model,
      family: family.id,
      status: ensured.status,
      commands: ensured.commands.map((command) => [...command]),
      env: { ...ensured.env },
    };
  }

  /** exllamav2: @nerion/backend-exllama owns the model folder and the download command. */
  private async ensureExllama(config: NerionConfig, catalog: Catalog, model: string): Promise<EnsureResult> {
    const family = resolveFamily(catalog, model, { retry: ensureRetry('exllamav2') });
    const entry = catalogEntry(family, 'exllamav2', 'exllamav2 (EXL2)');
    const { ensureExllamaModel, exllamaModelDir } = await import('@nerion/backend-exllama');
    const ensured = ensureExllamaModel({
      model: family.id,
      displayName: family.displayName,
      repo: entry.repo,
      ...(entry.revision ? { revision: entry.revision } : {}),
      modelDir: config.exllama.modelDir ?? exllamaModelDir(config.cacheDir, family.id),
    });
    if (ensured.status === 'present') this.note(`The exllamav2 model directory ${ensured.modelDir} is present.`);
    else this.log(ensured.lines.join('\n'));
    return {
      backend: 'exllamav2',
      model,
      family: family.id,
      status: ensured.status,
      path: ensured.modelDir,
      commands: ensured.commands.map((command) => [...command]),
      env: { ...ensured.env },
    };
  }

  private async ensureGguf(
    config: NerionConfig,
    catalog: Catalog,
    model: string,
    gguf: { verify: boolean; force: boolean },
  ): Promise<EnsureResult> {
    const modelUrl = config.llamaCpp.modelUrl;
    // With LLAMA_CPP_MODEL_URL the name may be a label; without it, it must be a catalog model.
    const family =
      modelUrl === undefined
        ? resolveFamily(catalog, model, { retry: ensureRetry('llama_cpp') })
        : findFamily(catalog, model);
    const progress = createByteProgressRenderer(`Downloading ${family?.id ?? model}`);
    let result;
    try {
      result = await provisionGguf({
        cacheDir: config.cacheDir,
        consent: consentFor(config),
        onProgress: (report) => progress.update(report),
        onWait: (message) => this.note(message),
        verify: gguf.verify,
        force: gguf.force,
        ...(family === undefined ? {} : { family }),
        ...(modelUrl === undefined ? {} : { modelUrl }),
        ...(config.llamaCpp.modelSha256 === undefined ? {} : { modelSha256: config.llamaCpp.modelSha256 }),
        ...(config.llamaCpp.modelPath === undefined ? {} : { destination: config.llamaCpp.modelPath }),
      });
    } finally {
      progress.finish();
    }
    if (result.status === 'present') this.note(`${result.path} is already provisioned; nothing to download.`);
    if (!result.verified) {
      this.note(
        `Warning: ${result.path} is unverified — no expected sha256 applies to ${result.source.url}${result.source.origin === 'override' ? ' (set LLAMA_CPP_MODEL_SHA256 to check it)' : ''}. Its sha256 is ${result.sha256}.`,
      );
    }
    this.log(
      `llama_cpp ${family?.id ?? model}: ${result.status} ${result.path}${result.verified ? ' (sha256 verified)' : ' (unverified)'}`,
    );
    return {
      backend: 'llama_cpp',
      model,
      ...(family ? { family: family.id } : {}),
      status: result.status,
      path: result.path,
      url: result.source.url,
      ...(result.sha256 ? { sha256: result.sha256 } : {}),
      verified: result.verified,
    };
  }

  /** Pull through the running Ollama (@nerion/backend-ollama), after consent; the CLI only renders progress. */
  private async ensureOllama(config: NerionConfig, catalog: Catalog, model: string): Promise<EnsureResult> {
    const resolution = resolveModelForBackend(catalog, 'ollama', model);
    const tag = resolution.name;
    // Every Ollama replica keeps its own models: each one gets the tag.
    const baseUrls = endpointsFor(config, 'ollama');
    const ollama = await import('@nerion/backend-ollama').catch((error: unknown) => {
      throw new NerionError(
        'NOT_AVAILABLE',
        'The Ollama backend package (@nerion/backend-ollama) cannot be loaded, so nerion cannot pull through Ollama. Run `ollama pull ' +
          tag +
          '` yourself.',
        { cause: error },
      );
    });
    let lastStatus = '';
    const progress = createByteProgressRenderer(`Pulling ${tag}`);
    // Rate per layer over this run's bytes: a resumed layer's first record already counts bytes fetched before.
    let layer: { digest: string | undefined; started: number; from: number } | undefined;
    const outcomes: Array<'present' | 'pulled'> = [];
    try {
      for (const baseUrl of baseUrls) {
        const ensured = await ollama.ensureOllamaModel({
          tag,
          baseUrl,
          consent: consentFor(config),
          onProgress: (record) => {
            if (record.total && record.completed !== undefined) {
              if (layer === undefined || layer.digest !== record.digest)
                layer = { digest: record.digest, started: performance.now(), from: record.completed };
              const seconds = Math.max((performance.now() - layer.started) / 1000, 1e-3);
              const rate = (record.completed - layer.from) / seconds;
              progress.update({
                receivedBytes: record.completed,
                totalBytes: record.total,
                resumedFromBytes: layer.from,
                bytesPerSecond: rate,
                etaSeconds: rate > 0 ? (record.total - record.completed) / rate : undefined,
                done: record.completed >= record.total,
              });
            } else if (record.status !== lastStatus) {
              lastStatus = record.status;
              progress.finish();
              this.note(`ollama: ${record.status}`);
            }
          },
        });
        outcomes.push(ensured.status);
        if (baseUrls.length > 1) this.note(`ollama at ${baseUrl}: ${tag} ${ensured.status}`);
        layer = undefined;
      }
    } finally {
      progress.finish();
    }
    const status = outcomes.includes('pulled') ? 'pulled' : 'present';
    this.log(`ollama ${tag}: ${status}`);
    return {
      backend: 'ollama',
      model,
      ...(resolution.family ? { family: resolution.family.id } : {}),
      status,
    };
  }
}

/** The family's build for a backend nerion gives instructions for; NOT_AVAILABLE when the catalog has none. */
function catalogEntry<B extends 'vllm' | 'exllamav2'>(
  family: CatalogFamily,
  backend: B,
  label: string,
): NonNullable<CatalogFamily['backends'][B]> {
  const entry = family.backends[backend];
  if (!entry)
    throw new NerionError(
      'NOT_AVAILABLE',
      `The catalog has no ${label} build of ${family.id}; choose another model (\`nerion models list\`).`,
      { data: { family: family.id } },
    );
  return entry;
}

/** `nerion models ensure --backend B --model <suggestion>`: the fix an unknown model name gets. */
function ensureRetry(backend: string): (suggestion: string) => string[] {
  return (suggestion) => ['nerion', 'models', 'ensure', '--backend', backend, '--model', suggestion];
}

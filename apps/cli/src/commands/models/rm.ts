import { rmSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { Flags } from '@oclif/core';
import { NerionError, formatBytes } from '@nerion/backend-core';
import { type NerionConfig } from '@nerion/config';
import {
  findFamily,
  findProvisionedGguf,
  forgetProvisioned,
  ggufDirectory,
  resolveModelForBackend,
  unknownModelError,
  type Catalog,
} from '@nerion/catalog';
import { NerionCommand } from '../../base-command.js';
import { askYesNo, baseUrlFor, loadCatalogForConfig } from '../../catalog.js';
import { sizeOnDisk } from '../../disk-size.js';
import { isInteractive } from '../../environment.js';

export interface RemoveResult {
  backend: string;
  /** The model as asked for. */
  model: string;
  family?: string;
  /** What was deleted: a file or folder path, or the Ollama tag. */
  removed: string;
  /** Bytes freed on this machine (files and folders nerion deleted; unknown for Ollama). */
  freedBytes?: number;
  /** provisioned.json records dropped with it. */
  forgottenRecords: number;
}

function inside(path: string, directory: string): boolean {
  const absolute = resolve(path);
  const root = resolve(directory);
  return absolute.startsWith(root + sep);
}

export default class ModelsRm extends NerionCommand {
  static override summary =
    'Delete a provisioned model: a GGUF, an exllamav2 folder, or (with consent) an Ollama model.';
  static override description = [
    'llama_cpp: deletes the GGUF nerion provisioned for the model (under $NERION_CACHE_DIR/models/llama.cpp/) and its provisioned.json record; --model may also name a .gguf file in that folder.',
    'exllamav2: deletes the model folder under $NERION_CACHE_DIR/models/exl/.',
    'ollama: asks the running Ollama to delete the tag (DELETE /api/delete, as `ollama rm`).',
    'vllm: vLLM keeps its downloads in the Hugging Face cache, which nerion does not manage.',
    "Asks y/N on a terminal; elsewhere --yes is required (exit 4 without it). Files outside nerion's cache folder are never deleted.",
  ].join('\n');
  static override examples = [
    '<%= config.bin %> models rm --backend llama_cpp --model qwen2.5-coder',
    '<%= config.bin %> models rm --backend ollama --model codellama:7b-instruct --yes',
    '<%= config.bin %> models rm --backend exllamav2 --model starcoder2 --yes --json',
  ];
  static override flags = {
    backend: Flags.string({ summary: 'Backend whose copy to delete (ollama, llama_cpp, exllamav2).', required: true }),
    model: Flags.string({
      summary: 'Model family or alias; for ollama any tag; for llama_cpp also a .gguf file name.',
      required: true,
    }),
    yes: Flags.boolean({ char: 'y', summary: 'Delete without asking.', default: false }),
  };

  async run(): Promise<RemoveResult> {
    const { flags } = await this.parse(ModelsRm);
    const config = this.resolveConfig({ backend: flags.backend, model: flags.model });
    const catalog = loadCatalogForConfig(config);
    const model = flags.model;
    const argv = ['nerion', 'models', 'rm', '--backend', config.backend, '--model', model];
    let result: RemoveResult;
    switch (config.backend) {
      case 'llama_cpp':
        result = await this.removeGguf(config, catalog, model, argv, flags.yes);
        break;
      case 'exllamav2':
        result = await this.removeExllama(config, catalog, model, argv, flags.yes);
        break;
      case 'ollama':
        result = await this.removeOllama(config, catalog, model, argv, flags.yes);
        break;
      default:
        throw new NerionError(
          'NOT_AVAILABLE',
          `nerion does not manage ${config.backend}'s downloads: vLLM keeps them in the Hugging Face cache (\`huggingface-cli delete-cache\` removes them).`,
          { data: { backend: config.backend, model }, fix: { command: ['huggingface-cli', 'delete-cache'] } },
        );
    }
    if (!this.jsonEnabled()) {
      const freed = result.freedBytes === undefined ? '' : ` (${formatBytes(result.freedBytes)} freed)`;
      this.log(`Deleted ${result.removed}${freed}.`);
    }
    return result;
  }

  /** y/N on a terminal; --yes elsewhere; otherwise CONSENT_REQUIRED with the --yes command as the fix. */
  private async confirm(question: string, argv: string[], yes: boolean): Promise<void> {
    if (yes) return;
    if (process.stdin.isTTY === true && isInteractive(process.stderr)) {
      if (await askYesNo(`${question} [y/N] `)) return;
      throw new NerionError('ABORTED', 'Nothing was deleted.', { data: { answered: 'no' } });
    }
    throw new NerionError(
      'CONSENT_REQUIRED',
      `Not deleting without confirmation: stdin is not a terminal, so nerion cannot ask. Re-run with --yes: \`${[...argv, '--yes'].join(' ')}\`.`,
      { fix: { command: [...argv, '--yes'] } },
    );
  }

  private async removeGguf(
    config: NerionConfig,
    catalog: Catalog,
    model: string,
    argv: string[],
    yes: boolean,
  ): Promise<RemoveResult> {
    const folder = ggufDirectory(config.cacheDir);
    const family = findFamily(catalog, model);
    let path: string | undefined;
    if (family) path = findProvisionedGguf(config.cacheDir, family);
    else if (/\.gguf$/i.test(model) && basename(model) === model) {
      const candidate = join(folder, model);
      if (existsFile(candidate)) path = candidate;
      else
        throw new NerionError(
          'MODEL_NOT_FOUND',
          `There is no ${model} in ${folder}; \`nerion models list\` shows the GGUFs there.`,
          {
            data: { model, folder },
            fix: { command: ['nerion', 'models', 'list'] },
          },
        );
    } else
      throw unknownModelError(catalog, model, {
        retry: (name) => ['nerion', 'models', 'rm', '--backend', 'llama_cpp', '--model', name],
      });
    if (path === undefined)
      throw new NerionError(
        'MODEL_NOT_FOUND',
        `No GGUF of ${family!.id} is provisioned under ${config.cacheDir}; nothing to delete.`,
        {
          data: { model, family: family!.id, cacheDir: config.cacheDir },
          fix: { command: ['nerion', 'models', 'list'] },
        },
      );
    if (!inside(path, config.cacheDir))
      throw new NerionError(
        'INVALID_REQUEST',
        `${path} is outside nerion's cache folder ${config.cacheDir}; nerion deletes only what it provisioned. Delete it yourself if you mean to.`,
        { data: { path, cacheDir: config.cacheDir } },
      );
    const freedBytes = sizeOnDisk(path) ?? 0;
    await this.confirm(`Delete ${path} (${formatBytes(freedBytes)})?`, argv, yes);
    rmSync(path, { force: true });
    const forgotten = forgetProvisioned(config.cacheDir, path);
    return {
      backend: 'llama_cpp',
      model,
      ...(family ? { family: family.id } : {}),
      removed: path,
      freedBytes,
      forgottenRecords: forgotten.length,
    };
  }

  private async removeExllama(
    config: NerionConfig,
    catalog: Catalog,
    model: string,
    argv: string[],
    yes: boolean,
  ): Promise<RemoveResult> {
    const family = findFamily(catalog, model);
    if (!family)
      throw unknownModelError(catalog, model, {
        retry: (name) => ['nerion', 'models', 'rm', '--backend', 'exllamav2', '--model', name],
      });
    const { exllamaModelDir } = await import('@nerion/backend-exllama');
    const folder = exllamaModelDir(config.cacheDir, family.id);
    if (!existsDirectory(folder))
      throw new NerionError(
        'MODEL_NOT_FOUND',
        `There is no exllamav2 folder of ${family.id} at ${folder}; nothing to delete.`,
        {
          data: { model, family: family.id, folder },
          fix: { command: ['nerion', 'models', 'list'] },
        },
      );
    const freedBytes = sizeOnDisk(folder) ?? 0;
    await this.confirm(`Delete the folder ${folder} (${formatBytes(freedBytes)})?`, argv, yes);
    rmSync(folder, { recursive: true, force: true });
    const forgotten = forgetProvisioned(config.cacheDir, folder);
    return {
      backend: 'exllamav2',
      model,
      family: family.id,
      removed: folder,
      freedBytes,
      forgottenRecords: forgotten.length,
    };
  }

  private async removeOllama(
    config: NerionConfig,
    catalog: Catalog,
    model: string,
    argv: string[],
    yes: boolean,
  ): Promise<RemoveResult> {
    const resolution = resolveModelForBackend(catalog, 'ollama', model);
    const tag = resolution.name;
    const baseUrl = baseUrlFor(config, 'ollama');
    await this.confirm(`Delete the model ${tag} from the Ollama at ${baseUrl} (as \`ollama rm ${tag}\`)?`, argv, yes);
    const { deleteOllamaModel } = await import('@nerion/backend-ollama');
    await deleteOllamaModel({ baseUrl }, tag);
    return {
      backend: 'ollama',
      model,
      ...(resolution.family ? { family: resolution.family.id } : {}),
      removed: tag,
      forgottenRecords: 0,
    };
  }
}

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function existsDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

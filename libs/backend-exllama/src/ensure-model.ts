/**
 * `nerion models ensure --backend exllamav2`: nerion does not download EXL2 models on request (only
 * NERION_AUTOSTART_EXL does, through prepareExllamaModelDir); this says whether the folder holds a model
 * and gives the exact download command and the environment that points nerion at it.
 */
import { shellJoin, shellQuote, type ModelInstructions } from '@nerion/backend-core';
import { hasExllamaModel } from './model-folder.js';
import { exllamaDownloadCommand } from './prepare-model-dir.js';

export interface EnsureExllamaModelOptions {
  /** The model name nerion is configured with (NERION_CODER_MODEL), e.g. a catalog family id. */
  model: string;
  /** Shown in the instructions, e.g. the catalog's display name. */
  displayName: string;
  /** The Hugging Face repo of the EXL2 build, and its branch (the bits per weight). */
  repo: string;
  revision?: string;
  /** The model folder (EXLLAMA_MODEL_DIR, or exllamaModelDir(cacheDir, model)). */
  modelDir: string;
}

export interface EnsuredExllamaModel extends ModelInstructions {
  /** present: the folder holds a model; instructions: run the printed commands. */
  status: 'present' | 'instructions';
  modelDir: string;
}

export function ensureExllamaModel(options: EnsureExllamaModelOptions): EnsuredExllamaModel {
  const directory = options.modelDir;
  const command = exllamaDownloadCommand(
    { repo: options.repo, ...(options.revision ? { revision: options.revision } : {}) },
    directory,
  );
  const env = { NERION_CODER_BACKEND: 'exllamav2', NERION_CODER_MODEL: options.model, EXLLAMA_MODEL_DIR: directory };
  return {
    status: hasExllamaModel(directory) ? 'present' : 'instructions',
    modelDir: directory,
    commands: [command],
    env,
    paths: { modelDir: directory },
    lines: [
      `# Download the EXL2 build of ${options.displayName} (needs \`pip install -U huggingface_hub\`; older versions name the tool huggingface-cli):`,
      shellJoin(command),
      '# Then point nerion at it (and install the bindings: pip install exllamav2):',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
      '# Or let nerion fetch it when missing: export NERION_AUTOSTART_EXL=1 NERION_ALLOW_NETWORK=1',
    ],
  };
}

/**
 * For backends nerion does not download for (vLLM, exllamav2): the exact commands and paths to run.
 */
import { NerionError } from '@nerion/backend-core';
import type { CatalogFamily } from './catalog-schema.js';
import { defaultExllamaDir } from './provisioned.js';

export interface BackendInstructions {
  /** Commands to run, each as an argument array (shown joined with spaces, quoted where needed). */
  readonly commands: readonly (readonly string[])[];
  /** Environment to point nerion at the result. */
  readonly env: Readonly<Record<string, string>>;
  /** Paths involved (model directory, …). */
  readonly paths: Readonly<Record<string, string>>;
  /** The instructions as lines for a terminal. */
  readonly lines: readonly string[];
}

/** `vllm serve <repo> --served-model-name <name> --host 127.0.0.1 --port <port>` and the env to use it. */
export function vllmInstructions(
  family: CatalogFamily,
  options: { host?: string; port?: number } = {},
): BackendInstructions {
  const entry = family.backends.vllm;
  if (!entry)
    throw new NerionError(
      'NOT_AVAILABLE',
      `The catalog has no vLLM build of ${family.id}; choose another model (\`nerion models list\`).`,
      { data: { family: family.id } },
    );
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8000;
  const command = [
    'vllm',
    'serve',
    entry.repo,
    ...(entry.revision ? ['--revision', entry.revision] : []),
    '--served-model-name',
    entry.servedName,
    '--host',
    host,
    '--port',
    String(port),
  ];
  const env = {
    NERION_CODER_BACKEND: 'vllm',
    NERION_CODER_MODEL: family.id,
    NERION_CODER_BASE_URL: `http://${host}:${port}`,
  };
  return {
    commands: [command],
    env,
    paths: {},
    lines: [
      `# Start a vLLM server for ${family.displayName} (it downloads ${entry.repo} into the Hugging Face cache on first start):`,
      shellJoin(command),
      '# Then point nerion at it:',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
      '# Or let nerion start it when needed: export NERION_AUTOSTART_VLLM=1',
    ],
  };
}

/** The download command for the EXL2 repo/revision into `<cacheDir>/models/exl/<family>` and EXLLAMA_MODEL_DIR. */
export function exllamaInstructions(family: CatalogFamily, cacheDir: string, modelDir?: string): BackendInstructions {
  const entry = family.backends.exllamav2;
  if (!entry)
    throw new NerionError(
      'NOT_AVAILABLE',
      `The catalog has no exllamav2 (EXL2) build of ${family.id}; choose another model (\`nerion models list\`).`,
      { data: { family: family.id } },
    );
  const directory = modelDir ?? defaultExllamaDir(cacheDir, family.id);
  const command = [
    'hf',
    'download',
    entry.repo,
    ...(entry.revision ? ['--revision', entry.revision] : []),
    '--local-dir',
    directory,
  ];
  const env = { NERION_CODER_BACKEND: 'exllamav2', NERION_CODER_MODEL: family.id, EXLLAMA_MODEL_DIR: directory };
  return {
    commands: [command],
    env,
    paths: { modelDir: directory },
    lines: [
      `# Download the EXL2 build of ${family.displayName} (needs \`pip install -U huggingface_hub\`; older versions name the tool huggingface-cli):`,
      shellJoin(command),
      '# Then point nerion at it (and install the bindings: pip install exllamav2):',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
      '# Or let nerion fetch it when missing: export NERION_AUTOSTART_EXL=1 NERION_ALLOW_NETWORK=1',
    ],
  };
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

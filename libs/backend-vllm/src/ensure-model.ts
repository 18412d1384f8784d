/**
 * `nerion models ensure --backend vllm`: vLLM downloads its model itself on first start, so ensuring a
 * model is the exact `vllm serve` command and the environment that points nerion at the server.
 */
import { shellJoin, shellQuote, type ModelInstructions } from '@nerion/backend-core';
import { DEFAULT_VLLM_COMMAND, vllmServeArguments, type VllmParallelism } from './serve-arguments.js';

export interface EnsureVllmModelOptions {
  /** The model name nerion is configured with (NERION_CODER_MODEL), e.g. a catalog family id. */
  model: string;
  /** Shown in the instructions, e.g. the catalog's display name. */
  displayName: string;
  /** What `vllm serve` loads (a Hugging Face repo), and its revision. */
  repo: string;
  revision?: string;
  /** The name the server serves it under (`--served-model-name`). */
  servedName: string;
  /** Where the server listens (default 127.0.0.1:8000). */
  host?: string;
  port?: number;
  /** The launch command (NERION_VLLM_COMMAND; default `vllm serve`). */
  command?: readonly string[];
  /** Tensor/pipeline/data parallel sizes and the executor, written into the command. */
  parallelism?: VllmParallelism;
  /** More server arguments (an argv list), written last. */
  extraArgs?: readonly string[];
}

export interface EnsuredVllmModel extends ModelInstructions {
  status: 'instructions';
}

export function ensureVllmModel(options: EnsureVllmModelOptions): EnsuredVllmModel {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8000;
  const command = vllmServeArguments(options.command ?? DEFAULT_VLLM_COMMAND, {
    repo: options.repo,
    ...(options.revision ? { revision: options.revision } : {}),
    servedModelName: options.servedName,
    host,
    port,
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
  });
  const env = {
    NERION_CODER_BACKEND: 'vllm',
    NERION_CODER_MODEL: options.model,
    NERION_CODER_BASE_URL: `http://${host}:${port}`,
  };
  return {
    status: 'instructions',
    commands: [command],
    env,
    paths: {},
    lines: [
      `# Start a vLLM server for ${options.displayName} (it downloads ${options.repo} into the Hugging Face cache on first start):`,
      shellJoin(command),
      '# Then point nerion at it:',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
      '# Or let nerion start it when needed: export NERION_AUTOSTART_VLLM=1',
    ],
  };
}

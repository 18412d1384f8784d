/**
 * The argv that launches a vLLM server (`vllm serve <repo> --served-model-name … --host … --port …`).
 */
import { NerionError } from '@nerion/backend-core';

export const DEFAULT_VLLM_COMMAND: readonly string[] = ['vllm', 'serve'];

export interface VllmServeArgumentsInput {
  /** What to serve: a Hugging Face repo or a local path (vLLM's model tag). */
  repo: string;
  /** The repo's revision (`--revision`), right after the repo. */
  revision?: string;
  servedModelName: string;
  host: string;
  port: number;
  /** How the model is split over GPUs and nodes (typed flags, written before `extraArgs`). */
  parallelism?: VllmParallelism;
  /** More arguments for the server (e.g. `--max-model-len 8192`), as an argv list, never a shell string. */
  extraArgs?: readonly string[];
}

/** vLLM's executors: `ray` spans nodes (a Ray cluster), `mp` is one node's processes. */
export const VLLM_DISTRIBUTED_EXECUTOR_BACKENDS = ['ray', 'mp', 'uni', 'external_launcher'] as const;
export type VllmDistributedExecutorBackend = (typeof VLLM_DISTRIBUTED_EXECUTOR_BACKENDS)[number];

/** vLLM's parallelism flags, passed through as typed settings. */
export interface VllmParallelism {
  /** `--tensor-parallel-size`: GPUs each layer is split over. */
  tensorParallelSize?: number;
  /** `--pipeline-parallel-size`: stages the layers are split into (across nodes with `ray`). */
  pipelineParallelSize?: number;
  /** `--data-parallel-size`: independent engine copies behind the one server. */
  dataParallelSize?: number;
  /** `--distributed-executor-backend`: `ray` for multi-node, `mp` on one node. */
  distributedExecutorBackend?: VllmDistributedExecutorBackend;
}

/** The flags for `parallelism`, each checked (a positive integer; a known executor): CONFIG_INVALID names the variable. */
export function vllmParallelismArguments(parallelism: VllmParallelism | undefined): string[] {
  if (!parallelism) return [];
  const argv: string[] = [];
  const sizes: Array<[keyof VllmParallelism, string, string]> = [
    ['tensorParallelSize', '--tensor-parallel-size', 'NERION_VLLM_TENSOR_PARALLEL_SIZE'],
    ['pipelineParallelSize', '--pipeline-parallel-size', 'NERION_VLLM_PIPELINE_PARALLEL_SIZE'],
    ['dataParallelSize', '--data-parallel-size', 'NERION_VLLM_DATA_PARALLEL_SIZE'],
  ];
  for (const [key, flag, variable] of sizes) {
    const value = parallelism[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
      throw new NerionError('CONFIG_INVALID', `${variable} must be a positive whole number, got ${String(value)}.`, {
        fix: { settings: [variable] },
        data: { [key]: value },
      });
    argv.push(flag, String(value));
  }
  const executor = parallelism.distributedExecutorBackend;
  if (executor !== undefined) {
    if (!(VLLM_DISTRIBUTED_EXECUTOR_BACKENDS as readonly string[]).includes(executor))
      throw new NerionError(
        'CONFIG_INVALID',
        `NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND must be one of ${VLLM_DISTRIBUTED_EXECUTOR_BACKENDS.join(', ')} (ray for multi-node), got "${String(executor)}".`,
        { fix: { settings: ['NERION_VLLM_DISTRIBUTED_EXECUTOR_BACKEND'] } },
      );
    argv.push('--distributed-executor-backend', executor);
  }
  return argv;
}

/**
 * The full argv for launching: `command` then the serve arguments. The repo is positional when the
 * command ends with `serve` (`vllm serve <repo>`), and `--model <repo>` otherwise
 * (`python -m vllm.entrypoints.openai.api_server --model <repo>`).
 */
export function vllmServeArguments(command: readonly string[], input: VllmServeArgumentsInput): string[] {
  if (command.length === 0 || !command[0])
    throw new NerionError(
      'CONFIG_INVALID',
      'The vLLM launch command is empty; set NERION_VLLM_COMMAND (e.g. "vllm serve").',
      { fix: { settings: ['NERION_VLLM_COMMAND'] } },
    );
  const positional = command[command.length - 1] === 'serve';
  return [
    ...command,
    ...(positional ? [input.repo] : ['--model', input.repo]),
    ...(input.revision ? ['--revision', input.revision] : []),
    '--served-model-name',
    input.servedModelName,
    '--host',
    input.host,
    '--port',
    String(input.port),
    ...vllmParallelismArguments(input.parallelism),
    ...(input.extraArgs ?? []),
  ];
}

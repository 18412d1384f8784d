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
  /** More arguments for the server (e.g. `--max-model-len 8192`). */
  extraArgs?: readonly string[];
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
    ...(input.extraArgs ?? []),
  ];
}

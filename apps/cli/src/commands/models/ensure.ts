import { Flags } from '@oclif/core';
import { NerionError } from '@nerion/backend-core';
import { NerionCommand } from '../../base-command.js';

export default class ModelsEnsure extends NerionCommand {
  static override summary = 'Make a model usable: Ollama pull, GGUF download, or the exact vLLM/exllamav2 commands.';
  static override description = 'Downloads need consent: NERION_ALLOW_NETWORK=1, --yes, or answering y at the prompt on a terminal.';
  static override examples = [
    '<%= config.bin %> models ensure --auto',
    '<%= config.bin %> models ensure --backend llama_cpp --model qwen2.5-coder --yes',
  ];
  static override flags = {
    auto: Flags.boolean({ summary: 'Choose the best model for this machine and provision it if missing.', default: false }),
    backend: Flags.string({ summary: 'Backend to provision for.' }),
    model: Flags.string({ summary: 'Model family or alias (see `nerion models list`).' }),
    yes: Flags.boolean({ char: 'y', summary: 'Consent to downloads without a prompt.', default: false }),
  };

  async run(): Promise<void> {
    throw new NerionError('NOT_AVAILABLE', '`nerion models ensure` is not available in this build yet (issue #6).');
  }
}

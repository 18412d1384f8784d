import { Flags } from '@oclif/core';
import { NerionError } from '@nerion/backend-core';
import { NerionCommand } from '../../base-command.js';

export default class ModelsBench extends NerionCommand {
  static override summary = 'Benchmark backends × models side by side (latency, TTFT, tokens/s).';
  static override examples = [
    '<%= config.bin %> models bench --backends ollama llama_cpp vllm exllamav2 --models deepseek-coder-v2 qwen2.5-coder starcoder2 codellama',
  ];
  static override flags = {
    backends: Flags.string({ summary: 'Backends to measure.', multiple: true }),
    models: Flags.string({ summary: 'Models to measure.', multiple: true }),
    runs: Flags.integer({ summary: 'Measured runs per combination.', default: 3, min: 1 }),
    warmup: Flags.integer({ summary: 'Warm-up runs per combination.', default: 1, min: 0 }),
    timeout: Flags.integer({ summary: 'Seconds before a combination is cut.', default: 120, min: 1 }),
  };

  async run(): Promise<void> {
    throw new NerionError('NOT_AVAILABLE', '`nerion models bench` is not available in this build yet (issue #8).');
  }
}

import { Flags } from '@oclif/core';
import { NerionError } from '@nerion/backend-core';
import { NerionCommand } from '../base-command.js';

export default class Plan extends NerionCommand {
  static override summary = 'Turn an instruction into a strict, validated JSON code-change plan.';
  static override description = 'Prints exactly one JSON plan on stdout; every diagnostic goes to stderr. Plans are cached in .nerion/plan_cache.json per repository state.';
  static override enableJsonFlag = false;
  static override examples = [
    '<%= config.bin %> plan -i "add a function slugify to src/text.ts"',
    '<%= config.bin %> plan -i "add module docstring" -f src/app.py --llm --json-grammar',
    'NERION_CODER_BACKEND=llama_cpp LLAMA_CPP_MODEL_PATH=./model.gguf <%= config.bin %> plan -i "rename foo to bar" -f src/a.ts --llm',
  ];
  static override flags = {
    instruction: Flags.string({ char: 'i', summary: 'What to change, in plain words.', required: true }),
    file: Flags.string({ char: 'f', summary: 'The repo-relative target file.' }),
    llm: Flags.boolean({ summary: 'Plan with the configured coder model instead of the heuristic planner.', default: false }),
    'json-grammar': Flags.boolean({ summary: 'Constrain decoding to the plan JSON Schema (same as NERION_JSON_GRAMMAR=1).', default: false }),
    backend: Flags.string({ summary: 'Backend: ollama, llama_cpp, vllm or exllamav2 (overrides NERION_CODER_BACKEND).' }),
    model: Flags.string({ summary: 'Model name, optionally prefixed by a backend, e.g. ollama:qwen2.5-coder.' }),
    cache: Flags.boolean({ summary: 'Use the plan cache (--no-cache skips it).', default: true, allowNo: true }),
  };

  async run(): Promise<void> {
    throw new NerionError('NOT_AVAILABLE', '`nerion plan` is not available in this build yet (issue #7).');
  }
}

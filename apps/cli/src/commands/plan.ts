import { Flags } from '@oclif/core';
import { describeError, type CoderBackend } from '@nerion/backend-core';
import { type AutoSelection, type NerionConfig } from '@nerion/config';
import { NerionCommand } from '../base-command.js';
import { readInstruction } from '../instruction-input.js';
import { isInteractive } from '../environment.js';
import { planConfigFlags, preparePlan, printPlan, takeEarlierMiss, type PlanArguments } from '../plan-fast-path.js';

/** Bytes of the target file read for the LLM prompt's excerpt (the planner bounds the excerpt itself). */
const TARGET_READ_LIMIT = 256 * 1024;

export default class Plan extends NerionCommand {
  static override summary = 'Turn an instruction into a strict, validated JSON code-change plan.';
  static override description =
    'Prints exactly one JSON plan on stdout (with or without --json); every diagnostic goes to stderr. Under --json a failure is one {"error": …} document, and --apply/--diff print the apply result as JSON. Plans are cached in .nerion/plan_cache.json per repository state.';
  static override examples = [
    '<%= config.bin %> plan -i "add a function slugify to src/text.ts"',
    '<%= config.bin %> plan -i "rename add to plus in app/calc.py" --diff',
    '<%= config.bin %> plan -i "add module docstring \'Calculator.\'" -f app/calc.py --apply',
    '<%= config.bin %> plan -i "add module docstring" -f src/app.py --llm --json-grammar',
    '<%= config.bin %> plan --instruction-file request.txt -f src/app.py --llm',
    'echo "rename main to run in src/app.py" | <%= config.bin %> plan -i -',
    'NERION_CODER_BACKEND=llama_cpp LLAMA_CPP_MODEL_PATH=./model.gguf <%= config.bin %> plan -i "rename foo to bar" -f src/a.ts --llm',
  ];
  static override flags = {
    instruction: Flags.string({
      char: 'i',
      summary: 'What to change, in plain words (at most 20000 characters); - reads it from stdin.',
      exclusive: ['instruction-file'],
    }),
    'instruction-file': Flags.string({
      summary: 'Read the instruction from this file (at most 20000 characters).',
      exclusive: ['instruction'],
    }),
    file: Flags.string({ char: 'f', summary: 'The repo-relative target file.' }),
    llm: Flags.boolean({
      summary: 'Plan with the configured coder model instead of the heuristic planner.',
      default: false,
    }),
    'json-grammar': Flags.boolean({
      summary: 'Constrain decoding to the plan JSON Schema (same as NERION_JSON_GRAMMAR=1).',
      default: false,
    }),
    backend: Flags.string({
      summary: 'Backend: ollama, llama_cpp, vllm or exllamav2 (overrides NERION_CODER_BACKEND).',
    }),
    model: Flags.string({ summary: 'Model name, optionally prefixed by a backend, e.g. ollama:qwen2.5-coder.' }),
    cache: Flags.boolean({ summary: 'Use the plan cache (--no-cache skips it).', default: true, allowNo: true }),
    apply: Flags.boolean({
      summary: 'Apply the plan too (as `nerion apply` does); stdout then lists the changed files.',
      default: false,
      exclusive: ['diff'],
    }),
    diff: Flags.boolean({
      summary: 'Print the unified diff the plan would make, and write nothing.',
      aliases: ['dry-run'],
      default: false,
    }),
    force: Flags.boolean({ summary: 'With --apply: apply a plan that asks for clarification.', default: false }),
    'max-tokens': Flags.integer({
      summary: 'With --llm: generated-token limit of the plan (same as NERION_PLAN_MAX_TOKENS; default 1536).',
      min: 1,
    }),
    timeout: Flags.integer({
      summary: 'With --llm: seconds each model request may take before it is cut (TIMEOUT; default 120).',
      min: 1,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Plan);
    const applying = flags.apply || flags.diff;
    const args: PlanArguments = {
      instruction: await readInstruction(
        { instruction: flags.instruction, instructionFile: flags['instruction-file'] },
        { note: (message) => this.note(message) },
      ),
      file: flags.file,
      llm: flags.llm,
      jsonGrammar: flags['json-grammar'],
      backend: flags.backend,
      model: flags.model,
      cache: flags.cache,
      ...(flags['max-tokens'] === undefined ? {} : { maxTokens: flags['max-tokens'] }),
    };
    let config = this.resolveConfig(planConfigFlags(args));
    if (args.llm && config.auto && (config.sources.backend === 'default' || config.sources.model === 'default')) {
      // Auto-selection fills only what no flag, variable or config file chose.
      try {
        config = this.resolveConfig(planConfigFlags(args), await this.autoSelection(config, args));
      } catch (error) {
        // Like any LLM-path failure: strict surfaces it; otherwise the configured backend is tried (and the
        // heuristic planner is the fallback after that).
        if (config.strict) throw error;
        this.note(
          `warning: auto-selection found nothing usable (${describeError(error)}); trying ${config.backend}/${config.model}`,
        );
      }
    }

    // The flow (cache lookup → LLM → fallback → jail → store) is @nerion/planner's runPlanFlow; engines load
    // only when the LLM planner runs, in the registry.
    const cwd = process.cwd();
    // On a terminal, a spinner with tokens/s on stderr while the model generates (stdout stays the one plan).
    const spinner =
      args.llm && isInteractive(process.stderr)
        ? new GenerationSpinner(`${config.backend}/${config.model}`)
        : undefined;
    const note = (message: string) => {
      spinner?.clear();
      this.note(message);
    };
    const prepared =
      (args.cache ? takeEarlierMiss(args, config, cwd) : undefined) ?? (await preparePlan({ config, args, cwd, note }));
    const { runPlanFlow } = await import('@nerion/planner/flow');
    const { root, target } = prepared;
    const flow = runPlanFlow({
      root,
      instruction: args.instruction,
      ...(target === undefined ? {} : { target }),
      cache: prepared.cache,
      note,
      ...(args.llm
        ? {
            llm: {
              plannerId: `${config.backend}/${config.model}`,
              jsonGrammar: config.jsonGrammar,
              strict: config.strict,
              ...(config.planMaxTokens === undefined ? {} : { maxTokens: config.planMaxTokens }),
              ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout * 1000 }),
              ...(spinner ? { onGeneration: (progress) => spinner.update(progress) } : {}),
              readTarget: async () => (target === undefined ? undefined : readTarget(root, target)),
              createBackend: async (): Promise<CoderBackend> => {
                const { createBackendRegistry } = await import('../backends/index.js');
                return createBackendRegistry().create(config.backend, config.model, { config, progress: note });
              },
            },
          }
        : {}),
    });
    const outcome = await flow.finally(() => spinner?.clear());
    if (applying) {
      if (outcome.cached) note(`plan cache hit (${prepared.cacheFile})`);
      return this.applyPlanned(outcome.plan, root, flags);
    }
    printPlan(outcome, prepared, note);
  }

  /** `--apply` / `--diff`: the plan goes to `nerion apply`'s engine instead of stdout. */
  private async applyPlanned(plan: unknown, root: string, flags: { diff: boolean; force: boolean }): Promise<void> {
    const { renderApplyResult, runApply } = await import('../apply-report.js');
    const result = await runApply(
      {
        plan,
        root,
        dryRun: flags.diff,
        force: flags.force,
        forceCommand: ['nerion', 'plan', ...this.argv.filter((argument) => argument !== '--force'), '--force'],
      },
      (message) => this.note(message),
    );
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const rendered = renderApplyResult(result);
    for (const line of rendered.stderr) this.note(line);
    process.stdout.write(rendered.stdout);
  }

  /**
   * NERION_CODER_AUTO=1: probe the backends, pick the best available model for this instruction and
   * target, and say why on stderr. Flags, variables and the config file still win (the resolver applies
   * the selection only to what nothing else chose).
   */
  protected async autoSelection(config: NerionConfig, args: PlanArguments): Promise<AutoSelection> {
    const { autoSelect } = await import('../auto-select.js');
    const result = await autoSelect(config, {
      instruction: args.instruction,
      ...(args.file === undefined ? {} : { targetFile: args.file }),
      warn: (message) => this.note(`warning: ${message}`),
    });
    for (const reason of result.reasons) this.note(`auto: ${reason}`);
    return result.selection;
  }
}

/** The start of the target for the LLM prompt (a regular file only; see readRepoFileStart). */
async function readTarget(root: string, target: string): Promise<string | undefined> {
  const { readRepoFileStart } = await import('@nerion/planner/validation');
  return readRepoFileStart(root, target, TARGET_READ_LIMIT);
}

/** `⠋ ollama/qwen2.5-coder: 120 tokens, 35.2 tokens/s` on an interactive stderr, redrawn at most 10 times a second. */
class GenerationSpinner {
  private static readonly FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  private frame = 0;
  private drawnAt = 0;
  private shown = false;

  constructor(private readonly label: string) {}

  update(progress: { tokens: number; elapsedMs: number }): void {
    const now = Date.now();
    if (this.shown && now - this.drawnAt < 100) return;
    this.drawnAt = now;
    const rate = progress.elapsedMs > 0 ? (progress.tokens * 1000) / progress.elapsedMs : 0;
    const frame = GenerationSpinner.FRAMES[this.frame++ % GenerationSpinner.FRAMES.length];
    process.stderr.write(`\r\u001b[2K${frame} ${this.label}: ${progress.tokens} tokens, ${rate.toFixed(1)} tokens/s`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    process.stderr.write('\r\u001b[2K');
    this.shown = false;
  }
}

import { Flags } from '@oclif/core';
import { NerionError } from '@nerion/backend-core';
import { KNOWN_BACKEND_IDS, parseBackendId, type KnownBackendId } from '@nerion/config';
import type { BenchFigure, BenchProgress, BenchReport, BenchResult, BenchTask } from '@nerion/bench';
import { NerionCommand } from '../../base-command.js';
import { createBackendRegistry } from '../../backends/index.js';
import { isInteractive } from '../../environment.js';
import { boundText } from '@nerion/backend-core';

/** The catalog's four families (product spec §4): the default model list. */
export const BENCH_DEFAULT_MODELS = ['deepseek-coder-v2', 'qwen2.5-coder', 'starcoder2', 'codellama'] as const;

/** `--backends a b`, `--backends a,b` and `--backends a --backends b` all give [a, b]; duplicates kept once. */
function splitList(values: readonly string[]): string[] {
  const items = values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
  return [...new Set(items)];
}

export default class ModelsBench extends NerionCommand {
  static override summary = 'Benchmark backends × models side by side (latency, TTFT, tokens/s).';
  static override description = [
    'Prints the table `backend<TAB>model<TAB>latency_s` (median wall time of one request, in seconds), one row per',
    'combination in the order given, as each one finishes; `n/a` where a combination is unavailable, failed or',
    'timed out, with the reason on stderr. --json gives every figure: latency median/p50/p95, time to first token,',
    'decode and prompt tokens/s, load time (kept apart from latency), and the n/a reasons.',
    'Combinations run one after the other (never concurrently) so engines sharing this machine do not distort each',
    "other's figures. Exit status 0 whenever the bench ran, even with n/a rows.",
    'With --task plan each run plans one of a fixed set of instructions from the planner evaluation set with the',
    'LLM planner, and the table adds `valid_plans` and `right_plans` (shares of schema-valid and of right plans).',
    'Load mode (--requests M, with --concurrency N and --rate R): after the warm-up, M streamed requests per',
    'combination, at most N in flight, all at once or as Poisson arrivals of R per second; the table then has the',
    'figures of `vllm bench serve` (completed, failed, request and output throughput, TTFT/TPOT/ITL/end-to-end',
    'mean, median, p95, p99; docs/bench.md), --timeout bounds each request, and --json has every request.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> models bench --backends ollama llama_cpp vllm exllamav2 --models deepseek-coder-v2 qwen2.5-coder starcoder2 codellama',
    '<%= config.bin %> models bench --backends llama_cpp --models qwen2.5-coder --runs 5 --warmup 2 --json',
    '<%= config.bin %> models bench --backends ollama,vllm --models codellama --format markdown',
    '<%= config.bin %> models bench --task plan --backends llama_cpp --models qwen2.5-coder --json-grammar',
    '<%= config.bin %> models bench --backends vllm ollama --models qwen2.5-coder --concurrency 4 --requests 40',
    '<%= config.bin %> models bench --backends vllm --models qwen2.5-coder --concurrency 8 --requests 100 --rate 5 --json',
  ];
  static override flags = {
    backends: Flags.string({
      summary: 'Backends to measure (space- or comma-separated). Default: all four.',
      multiple: true,
    }),
    models: Flags.string({
      summary: 'Models to measure on every backend (space- or comma-separated). Default: the four catalog families.',
      multiple: true,
    }),
    runs: Flags.integer({
      summary:
        'Measured runs per combination (default 3; with --task plan: every instruction of the set, or the first N).',
      min: 1,
    }),
    warmup: Flags.integer({
      summary: 'Warm-up runs per combination (the first one is timed as part of the load).',
      default: 1,
      min: 0,
    }),
    timeout: Flags.integer({
      summary: 'Seconds before a combination is cut (create + probe + warm-up + runs).',
      default: 120,
      min: 1,
    }),
    prompt: Flags.string({ summary: 'The user message sent on every run. Default: a short coding request.' }),
    'max-tokens': Flags.integer({
      summary: 'Generated-token limit of every request (default 64; with --task plan the planner’s 1536).',
      min: 1,
    }),
    task: Flags.string({
      summary: 'What one run is: one `generate` request, or planning one instruction (`plan`).',
      options: ['generate', 'plan'],
      default: 'generate',
    }),
    'json-grammar': Flags.boolean({
      summary: 'With --task plan: constrain decoding to the plan JSON Schema (same as NERION_JSON_GRAMMAR=1).',
      default: false,
    }),
    requests: Flags.integer({
      summary: 'Load mode: requests per combination (streamed; the table becomes the load table).',
      min: 1,
    }),
    concurrency: Flags.integer({
      summary: 'Load mode: at most this many requests in flight (default: all of --requests at once).',
      min: 1,
      dependsOn: ['requests'],
    }),
    rate: Flags.string({
      summary: 'Load mode: Poisson arrivals per second (seeded, repeatable); default: all at once up to --concurrency.',
      dependsOn: ['requests'],
    }),
    verbose: Flags.boolean({
      summary: 'On a terminal: print each n/a reason in full (piped output and --json always carry it whole).',
      default: false,
    }),
    format: Flags.string({
      summary: 'Table format without --json.',
      options: ['tsv', 'csv', 'markdown'],
      default: 'tsv',
    }),
  };

  async run(): Promise<BenchReport> {
    const { flags } = await this.parse(ModelsBench);
    const backends: KnownBackendId[] = splitList(flags.backends ?? [...KNOWN_BACKEND_IDS]).map((value) =>
      parseBackendId(value, '--backends value'),
    );
    const models = splitList(flags.models ?? [...BENCH_DEFAULT_MODELS]);
    // Resolving once up front turns a bad environment or config file into CONFIG_INVALID before anything runs.
    const jsonGrammar = this.resolveConfig(flags['json-grammar'] ? { jsonGrammar: true } : {}).jsonGrammar;

    const loadTest =
      flags.requests === undefined ? undefined : loadSettings(flags.requests, flags.concurrency, flags.rate);
    if (loadTest && flags.task === 'plan')
      throw new NerionError(
        'CONFIG_INVALID',
        'Load mode (--requests) sends plain streamed requests and does not plan: run `--task plan` and load mode as two benches.',
        { fix: { command: ['nerion', 'models', 'bench', '--task', 'plan'] } },
      );

    const llamaPath = backends.includes('llama_cpp')
      ? this.resolveConfig({ backend: 'llama_cpp' }).llamaCpp.modelPath
      : undefined;
    if (llamaPath !== undefined && models.length > 1) {
      // product-spec §2: with LLAMA_CPP_MODEL_PATH every llama_cpp name is a label of one file — say so once.
      this.note(
        `Warning: LLAMA_CPP_MODEL_PATH is set, so llama_cpp runs ${llamaPath} for every model name: ${models.map((name) => `"${name}"`).join(', ')} are labels of one file and their llama_cpp rows measure the same model. Unset it to bench each catalog model's own GGUF.`,
      );
    }
    const bench = await import('@nerion/bench');
    const planTask =
      flags.task === 'plan' ? await createPlanTask(flags.runs, flags['max-tokens'], jsonGrammar) : undefined;
    const json = this.jsonEnabled();
    const streamTsv = !json && flags.format === 'tsv';
    // On a terminal: an aligned table and one short reason per n/a; piped, the exact TSV and full reasons.
    // (Load mode's 23 columns stay TSV everywhere.)
    const table =
      streamTsv && !loadTest && isInteractive(process.stdout)
        ? bench.alignedTable(backends, models, { plan: planTask !== undefined })
        : undefined;
    const shortReasons = isInteractive(process.stderr) && !flags.verbose;
    const progressLine = isInteractive(process.stderr) ? new ProgressLine() : undefined;
    const eta = new EtaClock(backends.length * models.length);
    const registry = createBackendRegistry();
    const controller = new AbortController();
    const onInterrupt = (): void => controller.abort();
    process.once('SIGINT', onInterrupt);

    const warned = new Set<string>();
    if (table) process.stdout.write(`${table.header}\n`);
    else if (streamTsv)
      process.stdout.write(
        `${loadTest ? bench.LOAD_TSV_HEADER : planTask ? bench.PLAN_TSV_HEADER : bench.TSV_HEADER}\n`,
      );
    try {
      const report = await bench.runBench({
        backends,
        models,
        runs: planTask?.runs ?? flags.runs ?? 3,
        warmup: flags.warmup,
        timeoutMs: flags.timeout * 1000,
        ...(flags['max-tokens'] === undefined ? {} : { maxTokens: flags['max-tokens'] }),
        ...(planTask ? { task: planTask.task } : {}),
        ...(flags.prompt === undefined ? {} : { prompt: flags.prompt }),
        ...(loadTest ? { loadTest } : {}),
        signal: controller.signal,
        createBackend: async (backend, model) => {
          // Each combination is resolved as if run with `--backend B --model M` (base URL, model path, … for B).
          const config = this.resolveConfig({ backend, model, combination: true });
          return registry.create(backend, model, { config, progress: (message) => progressLine?.show(message) });
        },
        onProgress: progressLine ? (event) => progressLine.show(describeProgress(event, eta)) : undefined,
        onWarning: (message) => {
          progressLine?.clear();
          this.note(`Warning: ${message}`);
        },
        onResult: (result: BenchResult) => {
          progressLine?.clear();
          eta.finished();
          if (table) process.stdout.write(`${table.row(result)}\n`);
          else if (streamTsv)
            process.stdout.write(
              `${loadTest ? bench.formatLoadTsvRow(result) : planTask ? bench.formatPlanTsvRow(result) : bench.formatTsvRow(result)}\n`,
            );
          const reason = shortReasons ? bench.shortUnavailableReason(result) : bench.formatUnavailableReason(result);
          if (reason) this.note(reason);
          const failures = loadTest && result.status === 'ok' ? bench.formatLoadFailures(result) : undefined;
          if (failures) this.note(failures);
          for (const warning of result.warnings) {
            // A warning that repeats the n/a reason (exllamav2's did) is said once.
            if (warned.has(warning) || (result.reason !== undefined && result.reason.includes(warning))) continue;
            warned.add(warning);
            this.note(`Warning (${result.backend}/${result.model}): ${warning}`);
          }
        },
      });
      progressLine?.clear();
      if (!json && flags.format === 'csv' && loadTest) process.stdout.write(bench.renderLoadCsv(report.results));
      if (!json && flags.format === 'markdown' && loadTest)
        process.stdout.write(bench.renderLoadMarkdown(report.results));
      if (loadTest) return report; // figures under load are not one request's latency: auto-select keeps the sequential ones
      // Measured speed and plan quality feed NERION_CODER_AUTO's ranking (auto-select reads these figures back).
      bench.writeBenchFigures(
        this.resolveConfig({}).cacheDir,
        report.results.flatMap((result): BenchFigure[] => {
          if (result.status !== 'ok') return [];
          // A plan run records plan quality (its latency is a planning request's, not the generate bench's).
          if (result.quality)
            return [
              {
                backend: result.backend,
                model: result.model,
                plan: {
                  valid: result.quality.validShare,
                  right: result.quality.rightShare,
                  cases: result.quality.runs,
                },
              },
            ];
          return result.latencyMs === undefined
            ? []
            : [{ backend: result.backend, model: result.model, latencySeconds: result.latencyMs / 1000 }];
        }),
        (message) => this.note(`Warning: ${message}`),
      );
      if (!json && flags.format === 'csv') process.stdout.write(bench.renderCsv(report.results));
      if (!json && flags.format === 'markdown') process.stdout.write(bench.renderMarkdown(report.results));
      return report;
    } finally {
      progressLine?.clear();
      process.removeListener('SIGINT', onInterrupt);
    }
  }
}

/**
 * `--task plan`: each run plans one instruction of the evaluation set's bench cases with the LLM planner
 * (strict, no fallback) and checks it with the evaluation set's checker. `--runs N` takes the first N.
 */
async function createPlanTask(
  runs: number | undefined,
  maxTokens: number | undefined,
  jsonGrammar: boolean,
): Promise<{ task: BenchTask; runs: number }> {
  const planner = await import('@nerion/planner');
  const set = planner.loadPlanEvalSet();
  const cases = planner.planBenchCases(set).slice(0, runs);
  const task: BenchTask = {
    name: 'plan',
    run: async (backend, iteration, signal) => {
      const item = cases[iteration < 0 ? 0 : iteration % cases.length];
      const result = await planner.planCaseWithLlm(backend, item, {
        fixturesDir: set.fixturesDir,
        jsonGrammar,
        signal,
        ...(maxTokens === undefined ? {} : { maxTokens }),
      });
      return {
        results: result.generations,
        valid: result.valid,
        right: result.verdict === 'right',
        ...(result.reason ? { note: `${item.id}: ${result.reason}` } : {}),
      };
    },
  };
  return { task, runs: cases.length };
}

/** Load mode's settings from the flags; a --rate that is not a positive number is CONFIG_INVALID naming the flag. */
function loadSettings(
  requests: number,
  concurrency: number | undefined,
  rate: string | undefined,
): { requests: number; concurrency: number; rate?: number } {
  const settings = { requests, concurrency: concurrency ?? requests };
  if (rate === undefined) return settings;
  const perSecond = Number(rate);
  if (rate.trim() === '' || !Number.isFinite(perSecond) || perSecond <= 0)
    throw new NerionError(
      'CONFIG_INVALID',
      `--rate must be a positive number of requests per second (e.g. --rate 2.5), got "${rate}"; leave it out to send all requests at once.`,
      { fix: { command: ['nerion', 'models', 'bench', '--requests', String(requests), '--rate', '1'] } },
    );
  return { ...settings, rate: perSecond };
}

function describeProgress(event: BenchProgress, eta: EtaClock): string {
  const step = event.iteration === undefined ? event.phase : `${event.phase} ${event.iteration}/${event.iterations}`;
  const left = eta.remainingSeconds();
  return `[${event.index + 1}/${event.total}${left === undefined ? '' : `, ~${formatDuration(left)} left`}] ${event.backend}/${event.model}: ${step}…`;
}

/** Overall ETA: the mean time of the finished combinations times the ones left (unknown before the first). */
class EtaClock {
  private readonly started = Date.now();
  private done = 0;

  constructor(private readonly total: number) {}

  finished(): void {
    this.done += 1;
  }

  remainingSeconds(): number | undefined {
    if (this.done === 0) return undefined;
    return (((Date.now() - this.started) / this.done) * (this.total - this.done)) / 1000;
  }
}

function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return whole < 60 ? `${whole}s` : `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

/** One self-overwriting status line on an interactive stderr. */
class ProgressLine {
  private shown = false;

  show(text: string): void {
    const width = Math.max(20, (process.stderr.columns || 80) - 1); // 0 when the terminal has no size
    process.stderr.write(`\r\u001b[2K${boundText(text, width)}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    process.stderr.write('\r\u001b[2K');
    this.shown = false;
  }
}

export {
  DEFAULT_BENCH_MAX_TOKENS,
  DEFAULT_BENCH_PROBE_TIMEOUT_MS,
  DEFAULT_BENCH_PROMPT,
  DEFAULT_BENCH_RUNS,
  DEFAULT_BENCH_TIMEOUT_MS,
  DEFAULT_BENCH_WARMUP,
  runBench,
} from './run-bench.js';
export {
  BENCH_COLUMNS,
  alignedTable,
  shortUnavailableReason,
  NOT_AVAILABLE,
  PLAN_TSV_HEADER,
  QUALITY_COLUMNS,
  TSV_HEADER,
  flattenResult,
  formatPlanTsvRow,
  formatTsvRow,
  formatUnavailableReason,
  renderCsv,
  renderJson,
  renderMarkdown,
  renderTsv,
  type BenchColumn,
} from './renderers.js';
export { distribution, quantile } from './statistics.js';
export type {
  BenchDistribution,
  BenchLoad,
  BenchPhase,
  BenchProgress,
  BenchQuality,
  BenchReport,
  BenchResult,
  BenchRun,
  BenchStatus,
  BenchTask,
  BenchTaskRun,
  CreateBenchBackend,
  RunBenchOptions,
} from './bench-types.js';
export { benchFiguresPath, readBenchFigures, writeBenchFigures, type BenchFigure } from './bench-figures.js';
export { runLoad } from './load/run-load.js';
export { arrivalOffsets, seededRandom } from './load/arrivals.js';
export { loadDistribution, summarizeLoad, timePerOutputToken } from './load/load-statistics.js';
export type {
  LoadArrivals,
  LoadDistribution,
  LoadFailure,
  LoadOptions,
  LoadReport,
  LoadRequestRecord,
} from './load/load-types.js';
export {
  LOAD_COLUMNS,
  LOAD_TSV_HEADER,
  flattenLoadRow,
  formatLoadFailures,
  formatLoadTsvRow,
  renderLoadCsv,
  renderLoadMarkdown,
  renderLoadTsv,
  type LoadColumn,
  type LoadRow,
} from './load/load-renderers.js';

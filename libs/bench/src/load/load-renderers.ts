/**
 * The table of load mode (`nerion models bench --concurrency N --requests M`): one row per backend × model,
 * the figures `vllm bench serve` prints, under the names of its JSON result file (`request_throughput`,
 * `mean_ttft_ms`, `p99_e2el_ms`, …). Times in ms and throughputs per second, 2 decimals; `n/a` where the
 * combination did not run (unavailable, failed before the load, timed out) or where no request gave the
 * figure. The column list is the contract documented in docs/bench.md.
 */
import type { LoadDistribution, LoadReport } from './load-types.js';

/** What a load row needs of a bench result. */
export interface LoadRow {
  backend: string;
  model: string;
  status: string;
  loadTest?: LoadReport;
}

const STATISTICS = ['mean', 'median', 'p95', 'p99'] as const;
const FIGURES = [
  ['ttft', 'timeToFirstTokenMs'],
  ['tpot', 'timePerOutputTokenMs'],
  ['itl', 'interTokenLatencyMs'],
  ['e2el', 'endToEndLatencyMs'],
] as const;

export const LOAD_COLUMNS = [
  'backend',
  'model',
  'status',
  'completed',
  'failed',
  'request_throughput',
  'output_throughput',
  ...FIGURES.flatMap(([name]) => STATISTICS.map((statistic) => `${statistic}_${name}_ms` as const)),
] as const;
export type LoadColumn = (typeof LOAD_COLUMNS)[number];

export const LOAD_TSV_HEADER = LOAD_COLUMNS.join('\t');
const NOT_AVAILABLE = 'n/a';

function number(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? NOT_AVAILABLE : value.toFixed(2);
}

function cell(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ');
}

/** One result as load-mode cells keyed by column (`n/a` for every missing figure). */
export function flattenLoadRow(row: LoadRow): Record<LoadColumn, string> {
  const report = row.loadTest;
  const cells: Record<string, string> = {
    backend: row.backend,
    model: row.model,
    status: row.status,
    completed: report ? String(report.completed) : NOT_AVAILABLE,
    failed: report ? String(report.failed) : NOT_AVAILABLE,
    request_throughput: number(report?.requestThroughput),
    output_throughput: number(report?.outputTokenThroughput),
  };
  for (const [name, field] of FIGURES) {
    const distribution: LoadDistribution | undefined = report?.[field];
    for (const statistic of STATISTICS) cells[`${statistic}_${name}_ms`] = number(distribution?.[statistic]);
  }
  return cells;
}

/** One load-mode TSV row (no newline). */
export function formatLoadTsvRow(row: LoadRow): string {
  const cells = flattenLoadRow(row);
  return LOAD_COLUMNS.map((column) => cell(cells[column])).join('\t');
}

/** The load-mode table: header and one row per result, each line ending with a newline. */
export function renderLoadTsv(rows: readonly LoadRow[]): string {
  return [LOAD_TSV_HEADER, ...rows.map(formatLoadTsvRow)].map((line) => `${line}\n`).join('');
}

/** `backend/model: N failed — reason (×count); …` for a row with failed requests, else undefined. */
export function formatLoadFailures(row: LoadRow): string | undefined {
  const report = row.loadTest;
  if (!report || report.failed === 0) return undefined;
  const reasons = report.failures.map((failure) => `${failure.reason} (×${failure.count})`).join('; ');
  return `${row.backend}/${row.model}: ${report.failed} of ${report.requests} requests failed — ${reasons}`;
}

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Load-mode CSV with a header row, CRLF line ends (RFC 4180). */
export function renderLoadCsv(rows: readonly LoadRow[]): string {
  const lines = [
    LOAD_COLUMNS.join(','),
    ...rows.map((row) => {
      const cells = flattenLoadRow(row);
      return LOAD_COLUMNS.map((column) => csvField(cells[column])).join(',');
    }),
  ];
  return lines.map((line) => `${line}\r\n`).join('');
}

/** A load-mode GitHub-flavoured Markdown table; numbers right-aligned. */
export function renderLoadMarkdown(rows: readonly LoadRow[]): string {
  const text = new Set<LoadColumn>(['backend', 'model', 'status']);
  const escape = (value: string): string => value.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
  const lines = [
    `| ${LOAD_COLUMNS.join(' | ')} |`,
    `| ${LOAD_COLUMNS.map((column) => (text.has(column) ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => {
      const cells = flattenLoadRow(row);
      return `| ${LOAD_COLUMNS.map((column) => escape(cells[column])).join(' | ')} |`;
    }),
  ];
  return lines.map((line) => `${line}\n`).join('');
}

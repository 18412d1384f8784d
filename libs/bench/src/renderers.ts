/**
 * Renderers of bench results. The TSV is the seed's table, byte for byte: header
 * `backend\tmodel\tlatency_s`, one row per combination, latency in seconds with 3 decimals, `n/a` when
 * the combination did not produce a figure. The other formats carry every measured figure.
 */
import type { BenchDistribution, BenchReport, BenchResult } from './bench-types.js';

export const TSV_HEADER = 'backend\tmodel\tlatency_s';
export const NOT_AVAILABLE = 'n/a';

/** Seconds with 3 decimals, from milliseconds. */
function seconds(milliseconds: number | undefined): string {
  return milliseconds === undefined ? NOT_AVAILABLE : (milliseconds / 1000).toFixed(3);
}

/** Tabs and line breaks would break a TSV row; a model name never has them, but a label might. */
function tsvCell(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ');
}

/** One seed-format row (no newline). */
export function formatTsvRow(result: BenchResult): string {
  return [
    tsvCell(result.backend),
    tsvCell(result.model),
    result.status === 'ok' ? seconds(result.latencyMs) : NOT_AVAILABLE,
  ].join('\t');
}

/** The seed's table: header and one row per result, each line ending with a newline. */
export function renderTsv(results: readonly BenchResult[]): string {
  return [TSV_HEADER, ...results.map(formatTsvRow)].map((line) => `${line}\n`).join('');
}

/** `backend/model: reason` for every row that shows n/a (what the CLI prints on stderr). */
export function formatUnavailableReason(result: BenchResult): string | undefined {
  if (result.status === 'ok') return undefined;
  return `${NOT_AVAILABLE} ${result.backend}/${result.model} (${result.status}): ${result.reason ?? 'no reason given'}`;
}

/** The whole report (or a list of results) as indented JSON with a trailing newline. */
export function renderJson(report: BenchReport | readonly BenchResult[]): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The flat columns of CSV and Markdown: one per figure, ms unless named `_tps` (tokens/s) or `_s`. */
export const BENCH_COLUMNS = [
  'backend',
  'model',
  'status',
  'latency_s',
  'latency_p50_ms',
  'latency_p95_ms',
  'ttft_ms',
  'decode_tps',
  'prompt_tps',
  'load_ms',
  'completion_tokens',
  'runs',
  'reason',
] as const;
export type BenchColumn = (typeof BENCH_COLUMNS)[number];

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '' : value.toFixed(digits);
}

function middle(value: BenchDistribution | undefined, digits: number): string {
  return fixed(value?.median, digits);
}

/** One result as flat cells keyed by column; empty strings where a figure is missing. */
export function flattenResult(result: BenchResult): Record<BenchColumn, string> {
  return {
    backend: result.backend,
    model: result.model,
    status: result.status,
    latency_s: result.status === 'ok' ? seconds(result.latencyMs) : NOT_AVAILABLE,
    latency_p50_ms: fixed(result.latency?.p50, 1),
    latency_p95_ms: fixed(result.latency?.p95, 1),
    ttft_ms: middle(result.timeToFirstTokenMs, 1),
    decode_tps: middle(result.decodeTokensPerSecond, 1),
    prompt_tps: middle(result.promptTokensPerSecond, 1),
    load_ms: fixed(result.load?.totalMs, 1),
    completion_tokens: result.completionTokens === undefined ? '' : String(result.completionTokens),
    runs: String(result.samples.length),
    reason: result.reason ?? '',
  };
}

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV with a header row, CRLF line ends (RFC 4180). */
export function renderCsv(results: readonly BenchResult[]): string {
  const lines = [
    BENCH_COLUMNS.join(','),
    ...results.map((result) => BENCH_COLUMNS.map((column) => csvField(flattenResult(result)[column])).join(',')),
  ];
  return lines.map((line) => `${line}\r\n`).join('');
}

function markdownCell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** A GitHub-flavoured Markdown table; numbers right-aligned. */
export function renderMarkdown(results: readonly BenchResult[]): string {
  const textColumns: ReadonlySet<BenchColumn> = new Set<BenchColumn>(['backend', 'model', 'status', 'reason']);
  const header = `| ${BENCH_COLUMNS.join(' | ')} |`;
  const rule = `| ${BENCH_COLUMNS.map((column) => (textColumns.has(column) ? '---' : '---:')).join(' | ')} |`;
  const rows = results.map((result) => {
    const cells = flattenResult(result);
    return `| ${BENCH_COLUMNS.map((column) => markdownCell(cells[column])).join(' | ')} |`;
  });
  return [header, rule, ...rows].map((line) => `${line}\n`).join('');
}

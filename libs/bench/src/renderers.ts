/**
 * Renderers of bench results. The TSV is the seed's table, byte for byte: header
 * `backend\tmodel\tlatency_s`, one row per combination, latency in seconds with 3 decimals, `n/a` when
 * the combination did not produce a figure. The other formats carry every measured figure.
 */
import { boundText } from '@nerion/backend-core';
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

/** `--task plan`'s TSV header: the seed's three columns, then the shares of valid and of right plans. */
export const PLAN_TSV_HEADER = `${TSV_HEADER}\tvalid_plans\tright_plans`;

function share(value: number | undefined): string {
  return value === undefined ? NOT_AVAILABLE : value.toFixed(3);
}

/** One `--task plan` row: the seed's row, then valid and right shares (0..1, 3 decimals) or `n/a`. */
export function formatPlanTsvRow(result: BenchResult): string {
  const ok = result.status === 'ok';
  return [
    formatTsvRow(result),
    ok ? share(result.quality?.validShare) : NOT_AVAILABLE,
    ok ? share(result.quality?.rightShare) : NOT_AVAILABLE,
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
/** Columns added (before `reason`) when results carry a task's quality (`--task plan`). */
export const QUALITY_COLUMNS = ['valid_share', 'right_share'] as const;
export type BenchColumn = (typeof BENCH_COLUMNS)[number] | (typeof QUALITY_COLUMNS)[number];

/** The CSV/Markdown columns for these results: the quality columns only when some result has them. */
function columnsFor(results: readonly BenchResult[]): readonly BenchColumn[] {
  if (!results.some((result) => result.quality)) return BENCH_COLUMNS;
  return [...BENCH_COLUMNS.slice(0, -1), ...QUALITY_COLUMNS, 'reason'];
}

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
    valid_share: result.quality ? result.quality.validShare.toFixed(3) : '',
    right_share: result.quality ? result.quality.rightShare.toFixed(3) : '',
    reason: result.reason ?? '',
  };
}

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV with a header row, CRLF line ends (RFC 4180). */
export function renderCsv(results: readonly BenchResult[]): string {
  const columns = columnsFor(results);
  const lines = [
    columns.join(','),
    ...results.map((result) => columns.map((column) => csvField(flattenResult(result)[column])).join(',')),
  ];
  return lines.map((line) => `${line}\r\n`).join('');
}

function markdownCell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** A GitHub-flavoured Markdown table; numbers right-aligned. */
export function renderMarkdown(results: readonly BenchResult[]): string {
  const textColumns: ReadonlySet<BenchColumn> = new Set<BenchColumn>(['backend', 'model', 'status', 'reason']);
  const columns = columnsFor(results);
  const header = `| ${columns.join(' | ')} |`;
  const rule = `| ${columns.map((column) => (textColumns.has(column) ? '---' : '---:')).join(' | ')} |`;
  const rows = results.map((result) => {
    const cells = flattenResult(result);
    return `| ${columns.map((column) => markdownCell(cells[column])).join(' | ')} |`;
  });
  return [header, rule, ...rows].map((line) => `${line}\n`).join('');
}

/**
 * The seed's columns aligned for a terminal (spaces, not tabs), rows printed as each combination finishes:
 * the widths come from the names known up front. Piped output stays the exact TSV (formatTsvRow).
 */
export function alignedTable(
  backends: readonly string[],
  models: readonly string[],
  options: { plan?: boolean } = {},
): { header: string; row(result: BenchResult): string } {
  const headers = (options.plan ? PLAN_TSV_HEADER : TSV_HEADER).split('\t');
  const widths = [
    Math.max(headers[0].length, ...backends.map((name) => name.length)),
    Math.max(headers[1].length, ...models.map((name) => name.length)),
    ...headers.slice(2).map((name) => Math.max(name.length, 9)),
  ];
  // Names left-aligned, figures right-aligned under their header.
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => (index < 2 ? cell.padEnd(widths[index]) : cell.padStart(widths[index])))
      .join('  ')
      .trimEnd();
  return {
    header: line(headers),
    row: (result) => line((options.plan ? formatPlanTsvRow(result) : formatTsvRow(result)).split('\t')),
  };
}

/** The first sentence of an n/a reason, bounded to one short line (the whole reason is in --verbose and --json). */
export function shortUnavailableReason(result: BenchResult, max = 100): string | undefined {
  if (result.status === 'ok') return undefined;
  const reason = (result.reason ?? 'no reason given').replace(/\s+/gu, ' ').trim();
  // A sentence ends at ". " before a capital, a backtick or a quote; "0.6.5" and "e.g. x" do not end one.
  const first = /^(.+?[.!?])\s(?=[A-Z`"'(])/u.exec(reason)?.[1] ?? reason;
  return `${NOT_AVAILABLE} ${result.backend}/${result.model} (${result.status}): ${boundText(first, max)}`;
}

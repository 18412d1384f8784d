import { describe, expect, it } from '@jest/globals';
import {
  PLAN_TSV_HEADER,
  formatPlanTsvRow,
  formatTsvRow,
  formatUnavailableReason,
  quantile,
  renderCsv,
  renderJson,
  renderMarkdown,
  renderTsv,
  type BenchResult,
} from './index.js';

const base = { runs: 3, warmup: 1, samples: [], warnings: [], elapsedMs: 10, phase: 'done' as const };
const ok: BenchResult = {
  ...base,
  backend: 'llama_cpp',
  model: 'qwen2.5-coder',
  status: 'ok',
  latencyMs: 123.4567,
  latency: { median: 123.4567, p50: 123.4567, p95: 130.25, mean: 125, min: 120, max: 131 },
  timeToFirstTokenMs: { median: 8.04, p50: 8.04, p95: 9, mean: 8.3, min: 8, max: 9 },
  decodeTokensPerSecond: { median: 512.3, p50: 512.3, p95: 520, mean: 510, min: 500, max: 521 },
  completionTokens: 64,
  load: { totalMs: 812.5, source: 'measured', createMs: 700, probeMs: 2.5, firstRequestMs: 110 },
};
const down: BenchResult = {
  ...base,
  backend: 'ollama',
  model: 'codellama',
  status: 'unavailable',
  phase: 'probe',
  reason: 'Ollama is not answering at http://localhost:11434 — start it with `ollama serve`, then retry',
};

describe('renderers', () => {
  it('renders the seed table exactly: header, tab-separated rows, seconds with 3 decimals, n/a', () => {
    expect(renderTsv([ok, down])).toBe(
      'backend\tmodel\tlatency_s\nllama_cpp\tqwen2.5-coder\t0.123\nollama\tcodellama\tn/a\n',
    );
    expect(formatTsvRow({ ...ok, latencyMs: 2000 })).toBe('llama_cpp\tqwen2.5-coder\t2.000');
    expect(formatTsvRow({ ...ok, status: 'timeout' })).toBe('llama_cpp\tqwen2.5-coder\tn/a');
  });

  it('gives the reason line for n/a rows only', () => {
    expect(formatUnavailableReason(ok)).toBeUndefined();
    expect(formatUnavailableReason(down)).toBe(`n/a ollama/codellama (unavailable): ${down.reason}`);
  });

  it('renders CSV with every figure and RFC 4180 quoting', () => {
    const csv = renderCsv([ok, down]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'backend,model,status,latency_s,latency_p50_ms,latency_p95_ms,ttft_ms,decode_tps,prompt_tps,load_ms,completion_tokens,runs,reason',
    );
    expect(lines[1]).toBe('llama_cpp,qwen2.5-coder,ok,0.123,123.5,130.3,8.0,512.3,,812.5,64,0,');
    expect(lines[2]).toBe(`ollama,codellama,unavailable,n/a,,,,,,,,0,"${down.reason}"`);
    expect(lines[3]).toBe('');
  });

  it('renders a Markdown table with escaped pipes', () => {
    const markdown = renderMarkdown([ok, { ...down, reason: 'a | b' }]).split('\n');
    expect(markdown[0]).toBe(
      '| backend | model | status | latency_s | latency_p50_ms | latency_p95_ms | ttft_ms | decode_tps | prompt_tps | load_ms | completion_tokens | runs | reason |',
    );
    expect(markdown[1]).toBe(
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    expect(markdown[3]).toContain('| a \\| b |');
  });

  it('renders JSON that parses back to the same data', () => {
    expect(JSON.parse(renderJson([ok, down]))).toEqual([ok, down]);
  });

  it('interpolates quantiles linearly between order statistics', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20], 0.95)).toBeCloseTo(19.5);
    expect(quantile([7], 0.95)).toBe(7);
  });
});

describe('plan-quality columns (`--task plan`)', () => {
  const planned: BenchResult = {
    ...ok,
    quality: { runs: 14, valid: 7, right: 2, validShare: 0.5, rightShare: 2 / 14 },
  };

  it('TSV: the seed columns, then valid_plans and right_plans as shares with 3 decimals, n/a when unavailable', () => {
    expect(PLAN_TSV_HEADER).toBe('backend\tmodel\tlatency_s\tvalid_plans\tright_plans');
    expect(formatPlanTsvRow(planned)).toBe('llama_cpp\tqwen2.5-coder\t0.123\t0.500\t0.143');
    expect(formatPlanTsvRow(down)).toBe('ollama\tcodellama\tn/a\tn/a\tn/a');
  });

  it('CSV and Markdown add valid_share and right_share only when a result has quality', () => {
    expect(renderCsv([ok]).split('\r\n')[0]).not.toContain('valid_share');
    const [header, row] = renderCsv([planned, down]).split('\r\n');
    expect(header).toMatch(/,runs,valid_share,right_share,reason$/u);
    expect(row).toMatch(/,0\.500,0\.143,$/u);
    expect(renderMarkdown([planned]).split('\n')[0]).toContain('| valid_share | right_share | reason |');
  });
});

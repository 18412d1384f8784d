import { describe, expect, it } from '@jest/globals';
import {
  LOAD_COLUMNS,
  LOAD_TSV_HEADER,
  formatLoadFailures,
  formatLoadTsvRow,
  renderLoadCsv,
  renderLoadMarkdown,
  renderLoadTsv,
  summarizeLoad,
  type LoadRequestRecord,
} from '../index.js';

const record = (index: number, ttft: number, e2e: number): LoadRequestRecord => ({
  index,
  scheduledMs: 0,
  startedMs: 0,
  ok: true,
  timeToFirstTokenMs: ttft,
  interTokenLatenciesMs: [e2e - ttft],
  endToEndMs: e2e,
  outputTokens: 2,
  outputTokensSource: 'usage',
});
const loadTest = summarizeLoad({
  records: [
    record(0, 10, 30),
    record(1, 20, 50),
    { index: 2, scheduledMs: 0, startedMs: 0, ok: false, interTokenLatenciesMs: [], endToEndMs: 1, reason: 'refused' },
  ],
  durationMs: 1000,
  concurrency: 2,
  rate: undefined,
  seed: 0,
});
const ok = { backend: 'vllm', model: 'qwen2.5-coder', status: 'ok', loadTest };
const down = { backend: 'ollama', model: 'codellama', status: 'unavailable' };

describe('load-mode renderers', () => {
  it('has the documented columns: counts, throughputs, then mean/median/p95/p99 of TTFT, TPOT, ITL, E2EL', () => {
    expect(LOAD_TSV_HEADER).toBe(
      [
        'backend\tmodel\tstatus\tcompleted\tfailed\trequest_throughput\toutput_throughput',
        'mean_ttft_ms\tmedian_ttft_ms\tp95_ttft_ms\tp99_ttft_ms',
        'mean_tpot_ms\tmedian_tpot_ms\tp95_tpot_ms\tp99_tpot_ms',
        'mean_itl_ms\tmedian_itl_ms\tp95_itl_ms\tp99_itl_ms',
        'mean_e2el_ms\tmedian_e2el_ms\tp95_e2el_ms\tp99_e2el_ms',
      ].join('\t'),
    );
    expect(LOAD_COLUMNS).toHaveLength(23);
  });

  it('renders a row with 2 decimals, and n/a for a combination that did not run', () => {
    expect(formatLoadTsvRow(ok)).toBe(
      [
        'vllm\tqwen2.5-coder\tok\t2\t1\t2.00\t4.00',
        '15.00\t15.00\t19.50\t19.90', // TTFT 10, 20
        '25.00\t25.00\t29.50\t29.90', // TPOT (30−10)/1 = 20, (50−20)/1 = 30
        '25.00\t25.00\t29.50\t29.90', // ITL 20, 30
        '40.00\t40.00\t49.00\t49.80', // E2EL 30, 50
      ].join('\t'),
    );
    expect(formatLoadTsvRow(down)).toBe(['ollama', 'codellama', 'unavailable', ...Array(20).fill('n/a')].join('\t'));
    expect(renderLoadTsv([ok, down]).split('\n')).toHaveLength(4);
  });

  it('CSV and Markdown carry the same cells', () => {
    const csv = renderLoadCsv([ok, down]).split('\r\n');
    expect(csv[0]).toBe(LOAD_COLUMNS.join(','));
    expect(csv[1]).toBe(formatLoadTsvRow(ok).replace(/\t/g, ','));
    const markdown = renderLoadMarkdown([ok]).split('\n');
    expect(markdown[1]).toMatch(/^\| --- \| --- \| --- \| ---: /);
    expect(markdown[2]).toBe(`| ${formatLoadTsvRow(ok).replace(/\t/g, ' | ')} |`);
  });

  it('says which requests failed and why', () => {
    expect(formatLoadFailures(ok)).toBe('vllm/qwen2.5-coder: 1 of 3 requests failed — refused (×1)');
    expect(formatLoadFailures(down)).toBeUndefined();
  });
});

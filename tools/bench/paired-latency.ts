// Paired latency of two ways of making the same request (a client called directly vs a backend), measured
// in the same run. Requests alternate (direct, backend, backend, direct, …, the order flipping every pair,
// so neither side always benefits from a warm cache) and the figure is the median of the paired
// differences, so model time and machine drift cancel. Used by ollama-overhead.ts and vllm-overhead.ts.

export interface PairedLatencyOptions {
  /** The request made with the engine's own client. Resolves to the generated text. */
  direct: () => Promise<string>;
  /** The same request made through the backend. Must resolve to the same text as `direct`. */
  viaBackend: () => Promise<string>;
  /** Measured pairs. */
  pairs: number;
  /** Unmeasured (direct, backend) rounds run first. */
  warmup: number;
}

export interface PairedLatencyResult {
  directMs: number[];
  backendMs: number[];
  /** backend − direct, per pair. */
  differences: number[];
  /** The median of `differences`: what the backend adds per request. */
  addedMedianMs: number;
}

/** Linear-interpolated quantile (q in 0..1) of a non-empty list. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

async function timed(run: () => Promise<string>): Promise<{ ms: number; text: string }> {
  const started = performance.now();
  const text = await run();
  return { ms: performance.now() - started, text };
}

/** Runs the warm-up, then `pairs` alternating-order pairs; throws when the two paths return different text. */
export async function measurePairedLatency({
  direct,
  viaBackend,
  pairs,
  warmup,
}: PairedLatencyOptions): Promise<PairedLatencyResult> {
  for (let index = 0; index < warmup; index += 1) {
    await direct();
    await viaBackend();
  }
  const directMs: number[] = [];
  const backendMs: number[] = [];
  const differences: number[] = [];
  for (let index = 0; index < pairs; index += 1) {
    // Alternate which side goes first, so neither always benefits from a warm cache.
    const first = index % 2 === 0 ? await timed(direct) : await timed(viaBackend);
    const second = index % 2 === 0 ? await timed(viaBackend) : await timed(direct);
    const [a, b] = index % 2 === 0 ? [first, second] : [second, first];
    if (a.text !== b.text)
      throw new Error(`the two paths returned different text: ${JSON.stringify(a.text)} vs ${JSON.stringify(b.text)}`);
    directMs.push(a.ms);
    backendMs.push(b.ms);
    differences.push(b.ms - a.ms);
  }
  return { directMs, backendMs, differences, addedMedianMs: quantile(differences, 0.5) };
}

/**
 * Prints the direct and backend medians/p90, their ratio, and the paired difference with the verdict
 * against `targetMs`. `names` label the two rows (e.g. 'ollama client direct', 'backend.generate()').
 * Returns whether the median added latency is within the target.
 */
export function printPairedLatency(
  names: { direct: string; backend: string },
  result: PairedLatencyResult,
  targetMs: number,
): boolean {
  const { directMs, backendMs, differences, addedMedianMs: added } = result;
  const met = added <= targetMs;
  const row = (name: string): string => `  ${name.padEnd(24)}`;
  console.log(
    `${row(names.direct)}median ${quantile(directMs, 0.5).toFixed(2)} ms   p90 ${quantile(directMs, 0.9).toFixed(2)} ms`,
  );
  console.log(
    `${row(names.backend)}median ${quantile(backendMs, 0.5).toFixed(2)} ms   p90 ${quantile(backendMs, 0.9).toFixed(2)} ms   ratio ${(quantile(backendMs, 0.5) / quantile(directMs, 0.5)).toFixed(3)}`,
  );
  console.log(
    `${row('added latency (paired)')}median ${added.toFixed(2)} ms   p25 ${quantile(differences, 0.25).toFixed(2)} ms   p75 ${quantile(differences, 0.75).toFixed(2)} ms   target ≤ ${targetMs} ms: ${met ? 'met' : 'NOT met'}`,
  );
  return met;
}

/** The request both overhead benches send. */
export const BENCH_MESSAGES = [
  { role: 'system' as const, content: 'You are a coding assistant.' },
  { role: 'user' as const, content: 'Write a TypeScript function that adds two numbers.' },
];

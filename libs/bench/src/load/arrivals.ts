/**
 * Arrival times of a load run. With a rate, a Poisson process: gaps drawn from an exponential distribution
 * of mean 1/rate, from a seeded generator, so the same seed gives the same schedule (as `vllm bench serve
 * --request-rate R --seed S` with burstiness 1). Without one, every request is due at once.
 */

/** mulberry32: a small, fast, seeded 32-bit generator of numbers in [0, 1). Not cryptographic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * When each of `count` requests is due, ms after the start. The first request is due after the first gap
 * (as in vLLM, which sleeps before each request). `rate` undefined or Infinity: all zeros.
 */
export function arrivalOffsets(count: number, rate: number | undefined, seed: number): number[] {
  if (rate === undefined || rate === Number.POSITIVE_INFINITY) return Array.from({ length: count }, () => 0);
  const random = seededRandom(seed);
  const offsets: number[] = [];
  let at = 0;
  for (let index = 0; index < count; index += 1) {
    // Inverse transform: −ln(1 − u) / rate is exponential with mean 1/rate (u in [0, 1), so 1 − u > 0).
    at += (-Math.log(1 - random()) / rate) * 1000;
    offsets.push(at);
  }
  return offsets;
}

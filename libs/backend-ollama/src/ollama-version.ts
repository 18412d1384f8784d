/** Ollama accepts a JSON schema in `format` (structured outputs) from this version on; older ones answer free text. */
export const STRUCTURED_OUTPUTS_SINCE = '0.5.0';

/** Compares dotted versions numerically (`0.10.1` > `0.9.9`); pre-release suffixes are ignored. Unknown → undefined. */
export function compareVersions(left: string, right: string): number | undefined {
  const parse = (value: string): number[] | undefined => {
    const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(value.trim());
    return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
  };
  const a = parse(left);
  const b = parse(right);
  if (!a || !b) return undefined;
  for (let index = 0; index < 3; index += 1) if (a[index] !== b[index]) return a[index] < b[index] ? -1 : 1;
  return 0;
}

/** True when this Ollama version predates structured outputs (so it ignores a schema in `format`). */
export function predatesStructuredOutputs(version: string): boolean {
  return (compareVersions(version, STRUCTURED_OUTPUTS_SINCE) ?? 0) < 0;
}

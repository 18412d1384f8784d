/** Ollama's tag and keep_alive rules, as the stand-in applies them. */
import { HttpError } from '../http/http-helpers.js';

export const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;

/** Ollama's implicit tag. */
export function normalizeTag(name: string): string {
  const trimmed = name.trim();
  return trimmed.slice(trimmed.lastIndexOf('/') + 1).includes(':') ? trimmed : `${trimmed}:latest`;
}

/** keep_alive: a number of seconds, or a Go duration ("5m", "1h30m", "10s", "-1"); negative keeps the model forever. */
export function parseKeepAlive(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_KEEP_ALIVE_MS;
  if (typeof value === 'number') return value < 0 ? Infinity : value * 1000;
  if (typeof value !== 'string')
    throw new HttpError(400, `json: cannot unmarshal ${typeof value} into Go struct field .keep_alive of type string`);
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) < 0 ? Infinity : Number(text) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const pattern = /(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = '';
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed += match[0];
  }
  if (consumed !== text || consumed === '') throw new HttpError(400, `time: invalid duration "${text}"`);
  return total < 0 ? Infinity : total;
}

/**
 * "Did you mean …?" for names: the one place nerion picks the nearest known names to a mistyped one
 * (catalog model names, and the CLI's command names). Nearest by edit distance (fastest-levenshtein),
 * plus names that start with what was typed (`qwen` → `qwen2.5-coder`) or that it starts with.
 */
import { distance } from 'fastest-levenshtein';
import type { Catalog } from './catalog-schema.js';

export interface NearestNamesOptions {
  /** At most this many names (default 3). */
  readonly limit?: number;
}

/** The known names nearest to `input`, best first; empty when none is plausibly meant. */
export function nearestNames(input: string, known: readonly string[], options: NearestNamesOptions = {}): string[] {
  const key = input.trim().toLowerCase();
  if (key === '') return [];
  const limit = options.limit ?? 3;
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(known)) {
    const candidate = name.toLowerCase();
    if (candidate === key) continue;
    const prefix = candidate.startsWith(key) || key.startsWith(candidate);
    const edits = distance(key, candidate);
    // A typo: at most a third of the longer name's characters differ (and at least 1, for short names).
    const threshold = Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
    if (!prefix && edits > threshold) continue;
    scored.push({ name, score: prefix ? Math.min(edits, 0.5) : edits });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.length - b.name.length || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((entry) => entry.name);
}

/**
 * The catalog family ids nearest to an unknown model name (aliases count, but the family id is
 * suggested, as the name every command accepts).
 */
export function suggestModelNames(catalog: Catalog, input: string, options: NearestNamesOptions = {}): string[] {
  const byName = new Map<string, string>();
  for (const family of catalog.families) {
    byName.set(family.id, family.id);
    for (const alias of family.aliases) if (!byName.has(alias)) byName.set(alias, family.id);
  }
  const ids: string[] = [];
  for (const name of nearestNames(input, [...byName.keys()], { limit: Number.MAX_SAFE_INTEGER })) {
    const id = byName.get(name) as string;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids.slice(0, options.limit ?? 3);
}

import { cutAtWordBoundary } from './terminal-text.js';

/**
 * Text for one terminal line, bounded: whitespace runs become one space; a text longer than `max` is cut with
 * terminal-text's `cutAtWordBoundary` (the one word-boundary rule: never inside a word or a number, such as
 * `maxTokens (1536)`) and ends with `…`. For nerion's own lines (bench reasons, progress lines); server text
 * goes through `serverText`, which also escapes control characters.
 */
export function boundText(text: string, max: number): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  if (flat.length <= max) return flat;
  // No dangling punctuation before the ellipsis: "… stopped at (" reads worse than "… stopped at".
  return `${cutAtWordBoundary(flat, Math.max(1, max - 1)).replace(/[\s,;:([{—–-]+$/u, '')}…`;
}

/**
 * The advice after "the model stopped at its token limit": names the flag and the variable that raise it,
 * for every backend's message (the same words everywhere), with the setting as fix data.
 */
export function tokenLimitAdvice(maxTokens: number): { sentence: string; fix: { settings: string[] } } {
  return {
    sentence: `Generation stopped at the token limit (${maxTokens} tokens) before the JSON was complete — raise it with --max-tokens (NERION_PLAN_MAX_TOKENS for plans).`,
    fix: { settings: ['NERION_PLAN_MAX_TOKENS'] },
  };
}

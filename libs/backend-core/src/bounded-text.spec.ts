import { describe, expect, it } from '@jest/globals';
import { boundText, tokenLimitAdvice } from './bounded-text.js';

describe('boundText', () => {
  it('keeps a short text whole, with whitespace runs flattened to one space', () => {
    expect(boundText('  two\n  lines\tof text ', 80)).toBe('two lines of text');
  });

  it('never cuts a word or a number in the middle (the fallback warning was cut at "stopped at ma")', () => {
    const reason = `[INVALID_OUTPUT] The answer is not JSON. Generation stopped at maxTokens (1536) before the JSON was complete.`;
    for (let max = 10; max < reason.length; max += 1) {
      const bounded = boundText(reason, max);
      expect(bounded.length).toBeLessThanOrEqual(max);
      expect(bounded.endsWith('…')).toBe(true);
      const kept = bounded.slice(0, -1).split(' ');
      const words = reason.split(' ');
      // Every kept word is a whole word of the original, in order (punctuation may be trimmed from the last).
      kept.slice(0, -1).forEach((word, index) => expect(word).toBe(words[index]));
      expect(words[kept.length - 1]!.startsWith(kept[kept.length - 1]!)).toBe(true);
      expect(bounded).not.toMatch(/stopped at ma…|\(15…|\(153…/);
    }
  });

  it('cuts inside a single word only when no boundary exists', () => {
    expect(boundText('a'.repeat(30), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});

describe('tokenLimitAdvice', () => {
  it('names the flag and the variable, with the variable as fix data', () => {
    const advice = tokenLimitAdvice(1536);
    expect(advice.sentence).toContain('1536');
    expect(advice.sentence).toContain('--max-tokens');
    expect(advice.sentence).toContain('NERION_PLAN_MAX_TOKENS');
    expect(advice.fix).toEqual({ settings: ['NERION_PLAN_MAX_TOKENS'] });
  });
});

import { describe, expect, it } from '@jest/globals';
import { cutAtWordBoundary, escapeControlCharacters, serverText, terminalSafe } from './terminal-text.js';

describe('terminal-safe server text', () => {
  it('shows ANSI, OSC, BEL, C1 and bidi characters as escapes', () => {
    const hostile = '\u001b]0;owned\u0007\u001b[31mred\u001b[0m \u009b2J \u202egnp.exe\r\nnext\ttab\u0000';
    const safe = serverText(hostile);
    expect(safe).toBe('\\x1b]0;owned\\x07\\x1b[31mred\\x1b[0m \\x9b2J \\u202egnp.exe\\r\\nnext\\ttab\\x00');
    // eslint-disable-next-line no-control-regex -- no control character may be left
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/u);
    expect(escapeControlCharacters('a\nb\u001b', { keepLayout: true })).toBe('a\nb\\x1b');
  });

  it('leaves ordinary text, including non-Latin scripts and emoji, as it is', () => {
    const text = 'Modèle « qwen » introuvable — 模型未找到 😀';
    expect(serverText(text)).toBe(text);
  });

  it('cuts a long text at a word boundary, never inside a word or a number, with an ellipsis and the size', () => {
    const text = `${'alpha 12345 '.repeat(1000)}end`;
    const cut = serverText(text, 100);
    expect(cut).toMatch(/^(alpha 12345 )*alpha 12345… \(cut: 12\.0 KB in all\)$/u);
    expect(cutAtWordBoundary('abc defgh', 6)).toBe('abc');
    expect(cutAtWordBoundary('abc defgh', 4)).toBe('abc');
    expect(cutAtWordBoundary('3.14159,2.71828', 10)).toBe('3.14159');
    expect(cutAtWordBoundary('x'.repeat(50), 10)).toBe('x'.repeat(10)); // one token: nowhere else to cut
    expect(cutAtWordBoundary(`${'a'.repeat(9)}😀b`, 10)).toBe('a'.repeat(9)); // not inside a surrogate pair
  });

  it('bounds 10 MB of garbage to a short line', () => {
    const garbage = '\u001b[2J'.repeat(2_500_000);
    const safe = serverText(garbage);
    expect(safe.length).toBeLessThan(5000);
    expect(safe).toMatch(/… \(cut: 10\.0 MB in all\)$/u);
    expect(terminalSafe(garbage).length).toBeLessThan(16_100);
    expect(serverText('\u001b'.repeat(5000), 100).length).toBeLessThan(130); // bounded after escaping too
  });
});

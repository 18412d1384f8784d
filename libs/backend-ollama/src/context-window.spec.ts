import { describe, expect, it } from '@jest/globals';
import { chooseContextLength, contextWarning, estimatePromptTokens } from './context-window.js';

describe('num_ctx sizing (Ollama silently cuts prompts that do not fit its small default window)', () => {
  it('estimates prompt tokens generously from UTF-8 bytes plus chat-template markers', () => {
    expect(estimatePromptTokens({ prompt: 'abcd' })).toBe(2);
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: 'abcd' }] })).toBe(2 + 8 + 32);
    expect(estimatePromptTokens({ prompt: 'é'.repeat(10) })).toBe(10);
  });

  it('picks the smallest ladder step that holds prompt + output, at least 2048', () => {
    expect(chooseContextLength(100, 512)).toBe(2048);
    expect(chooseContextLength(3000, 512)).toBe(4096);
    expect(chooseContextLength(3000, 6000)).toBe(16_384);
  });

  it('honours a fixed contextLength and the min/max bounds', () => {
    expect(chooseContextLength(100_000, 512, { contextLength: 3000 })).toBe(3000);
    expect(chooseContextLength(100, 16, { minContextLength: 8192 })).toBe(8192);
    expect(chooseContextLength(50_000, 512, { maxContextLength: 32_768 })).toBe(32_768);
  });

  it('warns when the window cannot hold the prompt and output, or when Ollama says it filled up', () => {
    expect(contextWarning(2048, 100, 512, 90, 40)).toBeUndefined();
    expect(contextWarning(2048, 3000, 512, undefined, undefined)).toMatch(/exceed num_ctx 2048/);
    expect(contextWarning(2048, 100, 512, 2000, 48)).toMatch(/filled num_ctx 2048/);
  });
});

import { describe, expect, it } from '@jest/globals';
import { NerionError } from './errors.js';

describe('NerionError', () => {
  it('carries a stable code, cause and frozen data, and serialises for --json', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:11434');
    const error = new NerionError('BACKEND_UNREACHABLE', 'Ollama is not answering', {
      cause,
      data: { url: 'http://localhost:11434' },
    });
    expect(error.code).toBe('BACKEND_UNREACHABLE');
    expect(error.cause).toBe(cause);
    expect(Object.isFrozen(error.data)).toBe(true);
    expect(error.toJSON()).toEqual({
      code: 'BACKEND_UNREACHABLE',
      message: 'Ollama is not answering',
      data: { url: 'http://localhost:11434' },
      cause: cause.message,
    });
  });

  it('is recognised across package copies by its Symbol.for brand, not by instanceof', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('nerion.error')]: true, code: 'TIMEOUT' });
    expect(NerionError.isInstance(foreign)).toBe(true);
    expect(NerionError.isInstance(new Error('plain'))).toBe(false);
    expect(NerionError.hasCode(new NerionError('TIMEOUT', 't'), 'TIMEOUT')).toBe(true);
    expect(NerionError.hasCode(new NerionError('TIMEOUT', 't'), 'ABORTED')).toBe(false);
  });
});

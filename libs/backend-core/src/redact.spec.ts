import { describe, expect, it } from '@jest/globals';
import { NerionError } from './errors.js';
import { redactSecrets, redactSecretsDeep, redactUrl } from './redact.js';

describe('redactUrl / redactSecrets', () => {
  it('hides a user name and password, and every query value; keeps scheme, host, port, path and names', () => {
    expect(redactUrl('http://user:secret@host:8000/v1?token=abc&download=true#top')).toBe(
      'http://***@host:8000/v1?token=***&download=***#top',
    );
    expect(redactUrl('https://host/a.gguf?sig')).toBe('https://host/a.gguf?***');
    expect(redactUrl('http://localhost:11434')).toBe('http://localhost:11434');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('rewrites every URL in a text, leaving sentence punctuation and other words alone', () => {
    expect(
      redactSecrets('Cannot reach http://u:p@127.0.0.1:9/x?token=s3cret. Also (https://h/a?k=v), then done.'),
    ).toBe('Cannot reach http://***@127.0.0.1:9/x?token=***. Also (https://h/a?k=***), then done.');
    expect(redactSecrets('LLAMA_CPP_MODEL_URL="http://a:b@h/m.gguf" is bad')).toBe(
      'LLAMA_CPP_MODEL_URL="http://***@h/m.gguf" is bad',
    );
  });

  it('redacts every string of a JSON-like value, and every NerionError message and data', () => {
    expect(redactSecretsDeep({ a: ['http://x:y@h/?t=1'], n: 1, b: null })).toEqual({
      a: ['http://***@h/?t=***'],
      n: 1,
      b: null,
    });
    const error = new NerionError('DOWNLOAD_FAILED', 'Cannot reach http://h/m?token=s3cret', {
      data: { url: 'http://h/m?token=s3cret', nested: { value: 'http://me:pw@h' } },
    });
    expect(error.message).toBe('Cannot reach http://h/m?token=***');
    expect(JSON.stringify(error.toJSON())).not.toMatch(/s3cret|pw@/);
  });
});

import { describe, expect, it } from '@jest/globals';
import { NerionError } from './errors.js';
import { parseBaseUrl, serverRoot } from './base-url.js';

function thrown(run: () => unknown): NerionError {
  try {
    run();
  } catch (error) {
    if (NerionError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a NerionError');
}

describe('parseBaseUrl (the one base-URL parser)', () => {
  it('accepts http(s) URLs and gives their root without trailing slashes', () => {
    expect(serverRoot(parseBaseUrl('http://localhost:8000/v1/'), { dropV1: true })).toBe('http://localhost:8000');
    expect(serverRoot(parseBaseUrl(' https://example.test/ollama/ '))).toBe('https://example.test/ollama');
    expect(parseBaseUrl('http://[::1]:11434').port).toBe('11434');
  });

  it('rejects a non-URL and a non-http scheme with CONFIG_INVALID naming the setting as its fix', () => {
    const notUrl = thrown(() => parseBaseUrl('localhost', { name: 'NERION_CODER_BASE_URL', example: 'http://x:1' }));
    expect(notUrl.code).toBe('CONFIG_INVALID');
    expect(notUrl.message).toBe('NERION_CODER_BASE_URL="localhost" is not a URL. Write it like http://x:1.');
    expect(notUrl.fix).toEqual({ settings: ['NERION_CODER_BASE_URL'] });
    const ftp = thrown(() => parseBaseUrl('ftp://host'));
    expect(ftp.message).toBe('"ftp://host" must be an http:// or https:// URL.');
    expect(ftp.fix).toBeUndefined();
  });
});

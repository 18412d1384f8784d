import { describe, expect, it } from '@jest/globals';
import { parseBaseUrl, serverRoot } from './base-url.js';

describe('parseBaseUrl (the one base-URL parser)', () => {
  it('accepts http(s) URLs and gives their root without trailing slashes', () => {
    expect(serverRoot(parseBaseUrl('http://localhost:8000/v1/'), { dropV1: true })).toBe('http://localhost:8000');
    expect(serverRoot(parseBaseUrl(' https://example.test/ollama/ '))).toBe('https://example.test/ollama');
    expect(parseBaseUrl('http://[::1]:11434').port).toBe('11434');
  });

  it('rejects a non-URL and a non-http scheme with CONFIG_INVALID naming the setting as its fix', () => {
    expect(() => parseBaseUrl('localhost', { name: 'NERION_CODER_BASE_URL', example: 'http://x:1' })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: 'NERION_CODER_BASE_URL="localhost" is not a URL. Write it like http://x:1.',
        fix: { settings: ['NERION_CODER_BASE_URL'] },
      }),
    );
    expect(() => parseBaseUrl('ftp://host')).toThrow(
      expect.objectContaining({ message: '"ftp://host" must be an http:// or https:// URL.', fix: undefined }),
    );
  });
});

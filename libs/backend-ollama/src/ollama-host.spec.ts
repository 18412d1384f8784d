import { describe, expect, it } from '@jest/globals';
import { thrown } from '@nerion/test-support';
import { ollamaHostToBaseUrl, ollamaServeCommand } from './ollama-host.js';

describe('ollamaHostToBaseUrl (OLLAMA_HOST read as Ollama’s envconfig.Host + ConnectableHost read it)', () => {
  it.each([
    ['', 'http://127.0.0.1:11434'],
    ['0.0.0.0', 'http://127.0.0.1:11434'],
    ['0.0.0.0:11435', 'http://127.0.0.1:11435'],
    ['127.0.0.1:11435', 'http://127.0.0.1:11435'],
    [':11435', 'http://127.0.0.1:11435'],
    ['gpu1', 'http://gpu1:11434'],
    ['gpu1:9000', 'http://gpu1:9000'],
    ['http://gpu1', 'http://gpu1:80'],
    ['https://gpu1', 'https://gpu1:443'],
    ['http://gpu1:11434/', 'http://gpu1:11434'],
    ['http://10.0.0.5:11434/ollama', 'http://10.0.0.5:11434/ollama'],
    ['"127.0.0.1:11435"', 'http://127.0.0.1:11435'],
    ["  '0.0.0.0'  ", 'http://127.0.0.1:11434'],
    ['[::]:11434', 'http://[::1]:11434'],
    ['::1', 'http://[::1]:11434'],
    ['[fe80::1]:9000', 'http://[fe80::1]:9000'],
    ['gpu1:notaport', 'http://gpu1:11434'],
    ['gpu1:70000', 'http://gpu1:11434'],
    ['ollama.com', 'https://ollama.com:443'],
  ])('OLLAMA_HOST=%j → %s', (value, expected) => {
    expect(ollamaHostToBaseUrl(value)).toBe(expected);
  });

  it('rejects a scheme Ollama cannot be reached over, and credentials in the value, with CONFIG_INVALID', () => {
    for (const value of ['ftp://gpu1:11434', 'http://user:secret@gpu1:11434']) {
      const caught = thrown(() => ollamaHostToBaseUrl(value));
      expect(caught.code).toBe('CONFIG_INVALID');
      expect(caught.fix?.settings).toContain('OLLAMA_HOST');
      expect(caught.message).not.toContain('secret');
    }
  });
});

describe('ollamaServeCommand (the printed start command uses the endpoint’s host and port)', () => {
  it.each([
    ['http://localhost:11434', ['ollama', 'serve']],
    ['http://127.0.0.1:11434', ['ollama', 'serve']],
    ['http://127.0.0.1:11435', ['env', 'OLLAMA_HOST=127.0.0.1:11435', 'ollama', 'serve']],
    ['http://localhost:9000', ['env', 'OLLAMA_HOST=127.0.0.1:9000', 'ollama', 'serve']],
    ['http://gpu1:11434', ['env', 'OLLAMA_HOST=gpu1:11434', 'ollama', 'serve']],
  ])('%s → %j', (baseUrl, argv) => {
    expect(ollamaServeCommand(baseUrl)).toEqual(argv);
  });
});

import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { connectionFailure, unreachableSentence } from './connection-failure.js';

async function fetchError(url: string): Promise<unknown> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    return error;
  }
  throw new Error(`${url} answered`);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connectionFailure: why a fetch never reached the server (real fetch on 127.0.0.1)', () => {
  it('a port where nothing listens: ECONNREFUSED, from under the bare "fetch failed"', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const error = await fetchError(url);
    expect((error as Error).message).toBe('fetch failed');
    const failure = connectionFailure(error);
    expect(failure).toEqual({ code: 'ECONNREFUSED', reason: 'connection refused: nothing listens on that port' });
    expect(unreachableSentence('vLLM', url, failure)).toBe(
      `vLLM is not answering at ${url} (connection refused: nothing listens on that port, ECONNREFUSED)`,
    );
  });

  it('a port the fetch standard blocks (6000): BAD_PORT, found before any connection', async () => {
    const failure = connectionFailure(await fetchError('http://127.0.0.1:6000/v1/models'));
    expect(failure?.code).toBe('BAD_PORT');
    expect(unreachableSentence('Ollama', 'http://127.0.0.1:6000', failure)).toBe(
      "nerion cannot connect to Ollama at http://127.0.0.1:6000: port 6000 is on the fetch standard's list of blocked ports, which Node's fetch refuses to use (BAD_PORT)",
    );
  });

  it('codes nested in an AggregateError (happy eyeballs: ::1 and 127.0.0.1 both refused), timeouts and lookups', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:11434'), { code: 'ECONNREFUSED' });
    const aggregate = new TypeError('fetch failed', { cause: new AggregateError([refused], '') });
    expect(connectionFailure(aggregate)?.code).toBe('ECONNREFUSED');
    const timeout = new TypeError('fetch failed', {
      cause: Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    expect(connectionFailure(timeout)).toEqual({ code: 'UND_ERR_CONNECT_TIMEOUT', reason: 'connection timed out' });
    const lookup = new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND ollama.internal'), { code: 'ENOTFOUND' }),
    });
    expect(connectionFailure(lookup)).toEqual({ code: 'ENOTFOUND', reason: 'host name not found' });
    expect(connectionFailure(new Error('HTTP 500'))).toBeUndefined();
    expect(unreachableSentence('vLLM', 'http://x:1', undefined)).toBe('vLLM is not answering at http://x:1');
  });
});

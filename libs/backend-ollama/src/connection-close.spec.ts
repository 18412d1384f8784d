// A proxy (or an HTTP/1.0 server) in front of Ollama that closes the connection to end a streamed reply.
// undici 7's fetch died here with an uncatchable `assert(!this.paused)` (undici issue 5360) when the socket
// ended while a slow reader had the body paused; the catalog downloader moved to node:http for it. The
// backend uses Node's global fetch (undici 6 in Node 20), which ends the body instead: these tests guard
// that, in a real child process reading slowly from a real 127.0.0.1 server, and show with undici 7's
// fetch that the same scenario does inject the crash.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from '@jest/globals';
import { runStreamClient, startClosingStreamServer, type ClosingStreamServer } from '@nerion/test-support';

const BUILT = new URL('../dist/index.js', import.meta.url).href;
const UNDICI_7 = createRequire(import.meta.url).resolve('undici');

describe('ollama backend: a streamed /api/generate reply ended by a closing connection, slow reader, real child process', () => {
  let server: ClosingStreamServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const client = (url: string, fetchModule?: string) =>
    runStreamClient({
      module: BUILT,
      factory: 'createOllamaBackend',
      settings: { model: 'm', baseUrl: url },
      ...(fetchModule ? { fetchModule } : {}),
    });

  it('Connection: close after the last record: the whole reply, finish "stop", exit 0', async () => {
    server = await startClosingStreamServer({ protocol: 'ollama', ending: 'close-after-last' });
    const outcome = await client(server.url);
    expect(outcome.report).toEqual({ finishReason: 'stop', chars: server.textChars });
    expect(outcome.status).toBe(0);
    expect(server.answered()).toBe(1);
  });

  it.each(['close-mid-record', 'close-mid-chunk'] as const)(
    '%s: a BACKEND_ERROR that says the connection broke, caught by the caller, exit 0',
    async (ending) => {
      server = await startClosingStreamServer({ protocol: 'ollama', ending });
      const outcome = await client(server.url);
      expect(outcome.report).toMatchObject({ code: 'BACKEND_ERROR', chars: server.textChars });
      expect(outcome.report?.message).toContain(`The connection to Ollama at ${server.url} broke in the middle`);
      expect(outcome.status).toBe(0);
    },
  );

  it("the scenario is the crash class: with undici 7's fetch the same child dies of assert(!this.paused)", async () => {
    server = await startClosingStreamServer({ protocol: 'ollama', ending: 'close-after-last' });
    // The assertion needs the body paused at the socket's end, a race that the slow reader wins nearly always.
    let crashed: Awaited<ReturnType<typeof client>> | undefined;
    for (let attempt = 0; attempt < 3 && !crashed; attempt += 1) {
      const outcome = await client(server.url, UNDICI_7);
      if (outcome.report?.uncaught !== undefined) crashed = outcome;
    }
    expect(crashed?.report?.uncaught).toContain('assert(!this.paused)');
    expect(crashed?.status).toBe(70);
  });
});

// A proxy (or an HTTP/1.0 server) in front of vLLM/TabbyAPI that closes the connection to end a streamed
// SSE reply. undici 7's fetch died here with an uncatchable `assert(!this.paused)` (undici issue 5360) when
// the socket ended while a slow reader had the body paused. The backend uses Node's global fetch (undici 6
// in Node 20), which ends the body instead: these tests guard that, in a real child process reading slowly
// from a real 127.0.0.1 server, and show with undici 7's fetch that the same scenario does inject the crash.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from '@jest/globals';
import { runStreamClient, startClosingStreamServer, type ClosingStreamServer } from '@nerion/test-support';

const BUILT = new URL('../dist/index.js', import.meta.url).href;
const UNDICI_7 = createRequire(import.meta.url).resolve('undici');

describe('openai-compatible backend: a streamed chat completion ended by a closing connection, slow reader, real child process', () => {
  let server: ClosingStreamServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const client = (url: string, fetchModule?: string) =>
    runStreamClient({
      module: BUILT,
      factory: 'createOpenAICompatibleBackend',
      settings: { id: 'vllm', model: 'm', baseUrl: url, serverName: 'vLLM' },
      ...(fetchModule ? { fetchModule } : {}),
    });

  it('Connection: close after [DONE]: the whole reply, finish "stop", exit 0', async () => {
    server = await startClosingStreamServer({ protocol: 'openai', ending: 'close-after-last' });
    const outcome = await client(server.url);
    expect(outcome.report).toEqual({ finishReason: 'stop', chars: server.textChars });
    expect(outcome.status).toBe(0);
  });

  it.each(['close-mid-record', 'close-mid-chunk'] as const)(
    '%s: a BACKEND_ERROR that says the stream ended early, caught by the caller, exit 0',
    async (ending) => {
      server = await startClosingStreamServer({ protocol: 'openai', ending });
      const outcome = await client(server.url);
      expect(outcome.report).toMatchObject({ code: 'BACKEND_ERROR', chars: server.textChars });
      expect(outcome.report?.message).toContain(`vLLM at ${server.url} ended the stream before a finish_reason`);
      expect(outcome.status).toBe(0);
    },
  );

  it("the scenario is the crash class: with undici 7's fetch the same child dies of assert(!this.paused)", async () => {
    server = await startClosingStreamServer({ protocol: 'openai', ending: 'close-mid-record' });
    let crashed: Awaited<ReturnType<typeof client>> | undefined;
    for (let attempt = 0; attempt < 3 && !crashed; attempt += 1) {
      const outcome = await client(server.url, UNDICI_7);
      if (outcome.report?.uncaught !== undefined) crashed = outcome;
    }
    expect(crashed?.report?.uncaught).toContain('assert(!this.paused)');
    expect(crashed?.status).toBe(70);
  });
});

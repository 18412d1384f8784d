import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeGguf, startPythonHttpServer, type PythonHttpServer } from '@nerion/test-support';
import { downloadFile } from './index.js';

// A real `python3 -m http.server` (HTTP/1.0: every response ends by closing the connection) serves the
// file. undici 7's fetch crashed the whole process here with an uncatchable `assert(!this.paused)` when
// the socket ended while the body was paused by backpressure (undici issue 5360).
const { bytes: payload, sha256: payloadSha } = fakeGguf(6_000_000);
let directory: string;
let server: PythonHttpServer;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'nerion-http10-'));
  writeFileSync(join(directory, 'model.gguf'), payload);
  server = await startPythonHttpServer(directory);
});
afterAll(async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('downloadFile from a server that closes the connection (python3 -m http.server, a real child process)', () => {
  it('completes 25 downloads in a row, each verified, with no crash', async () => {
    for (let run = 0; run < 25; run += 1) {
      const destination = join(directory, 'out', `copy-${run}.gguf`);
      // A slow consumer (a disk write that yields) makes the body stream pause under backpressure.
      const result = await downloadFile({
        url: `${server.url}/model.gguf`,
        destination,
        expectedSha256: payloadSha,
        onProgress: () => undefined,
        progressIntervalMs: 0,
      });
      expect(result).toMatchObject({ sha256: payloadSha, bytes: payload.length, verified: true });
      expect(readFileSync(destination).equals(payload)).toBe(true);
      rmSync(destination);
    }
  }, 180_000);
});

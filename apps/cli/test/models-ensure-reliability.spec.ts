import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startPythonHttpServer, type PythonHttpServer } from '@nerion/test-support';
import { runCli } from './run-cli.js';

// The GGUF host is a real `python3 -m http.server` child process on 127.0.0.1 (HTTP/1.0: it closes the
// connection after every response); nothing here reaches the internet.
const payload = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), randomBytes(24_000_000)]);
const payloadSha = createHash('sha256').update(payload).digest('hex');
let served: string;
let server: PythonHttpServer;

beforeAll(async () => {
  served = mkdtempSync(join(tmpdir(), 'nerion-served-'));
  writeFileSync(join(served, 'model.gguf'), payload);
  server = await startPythonHttpServer(served);
});
afterAll(async () => {
  await server.close();
  rmSync(served, { recursive: true, force: true });
});

function setup(): { env: Record<string, string>; cacheDir: string; directory: string } {
  const directory = mkdtempSync(join(tmpdir(), 'nerion-ensure-rel-'));
  const cacheDir = join(directory, 'cache');
  mkdirSync(cacheDir);
  return {
    directory,
    cacheDir,
    env: {
      NERION_CACHE_DIR: cacheDir,
      NERION_CODER_BACKEND: 'llama_cpp',
      NERION_CODER_MODEL: 'tiny',
      LLAMA_CPP_MODEL_URL: `${server.url}/model.gguf`,
      LLAMA_CPP_MODEL_SHA256: payloadSha,
    },
  };
}

describe('nerion models ensure against python3 -m http.server (Connection: close)', () => {
  it('downloads reliably: 6 fresh runs in a row each exit 0 with the verified file (undici 5360 crashed most runs)', async () => {
    for (let run = 0; run < 6; run += 1) {
      const { env, cacheDir } = setup();
      const result = await runCli(['models', 'ensure', '--yes', '--json'], { env });
      expect(result.stderr).not.toContain('AssertionError');
      expect(result.status).toBe(0);
      const body = JSON.parse(result.stdout);
      expect(body).toMatchObject({ status: 'downloaded', sha256: payloadSha, verified: true });
      expect(readFileSync(join(cacheDir, 'models', 'llama.cpp', 'model.gguf')).equals(payload)).toBe(true);
    }
  }, 120_000);
});

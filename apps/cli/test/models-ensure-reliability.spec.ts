import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startLocalFileServer,
  startPythonHttpServer,
  type LocalFileServer,
  type PythonHttpServer,
} from '@nerion/test-support';
import { runCli, type CliRun } from './run-cli.js';

// The GGUF host is a real `python3 -m http.server` child process on 127.0.0.1 (HTTP/1.0: it closes the
// connection after every response); nothing here reaches the internet.
const payload = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), randomBytes(24_000_000)]);
const payloadSha = createHash('sha256').update(payload).digest('hex');
let served: string;
let server: PythonHttpServer;
// A slow local server (32 KB every 20 ms) so two processes overlap in time.
const small = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), randomBytes(1_500_000)]);
const smallSha = createHash('sha256').update(small).digest('hex');
let slow: LocalFileServer;

beforeAll(async () => {
  served = mkdtempSync(join(tmpdir(), 'nerion-served-'));
  writeFileSync(join(served, 'model.gguf'), payload);
  server = await startPythonHttpServer(served);
  slow = await startLocalFileServer({ files: { '/small.gguf': small }, throttle: { chunkBytes: 32_768, delayMs: 20 } });
});
afterAll(async () => {
  await server.close();
  await slow.close();
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

describe('two nerion models ensure processes for the same file at once', () => {
  it('download it once, under a lock: the second waits and says so; the file and its record are both right', async () => {
    const { env, cacheDir } = setup();
    const slowEnv = { ...env, LLAMA_CPP_MODEL_URL: `${slow.url}/small.gguf`, LLAMA_CPP_MODEL_SHA256: smallSha };
    const before = slow.requests.length;
    const first = runCli(['models', 'ensure', '--yes', '--json'], { env: slowEnv });
    // Start the second once the first is receiving bytes (its .part file exists).
    const part = join(cacheDir, 'models', 'llama.cpp', 'small.gguf.part');
    const deadline = Date.now() + 30_000;
    while (!existsSync(part) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(existsSync(part)).toBe(true);
    const second = runCli(['models', 'ensure', '--yes', '--json'], { env: slowEnv });
    const runs: CliRun[] = await Promise.all([first, second]);
    for (const run of runs) {
      expect(run.stderr).not.toContain('Error');
      expect(run.status).toBe(0);
    }
    const file = readFileSync(join(cacheDir, 'models', 'llama.cpp', 'small.gguf'));
    expect(file.length).toBe(small.length);
    expect(createHash('sha256').update(file).digest('hex')).toBe(smallSha);
    expect(runs[1]!.stderr).toMatch(/Another nerion is downloading .*small\.gguf.*waiting/);
    expect(JSON.parse(runs[1]!.stdout)).toMatchObject({ status: 'present', sha256: smallSha, verified: true });
    // One download: the second process fetched nothing.
    expect(slow.requests.length - before).toBe(1);
    const records = JSON.parse(readFileSync(join(cacheDir, 'provisioned.json'), 'utf8')).records;
    expect(records).toEqual([expect.objectContaining({ sha256: smallSha, sizeBytes: small.length, verified: true })]);
    expect(existsSync(part)).toBe(false);
  }, 60_000);
});

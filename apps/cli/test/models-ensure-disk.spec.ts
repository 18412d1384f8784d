/**
 * `nerion models ensure` when the cache dir (NERION_CACHE_DIR) is on a read-only or full disk (issue #12
 * case 9): DOWNLOAD_FAILED naming the cause and the fix, never INTERNAL, nothing half-written left behind.
 * Real mounts (a read-only bind mount, a tiny tmpfs); a raw HTTP server on 127.0.0.1 that sends the GGUF
 * chunked (no Content-Length, so the free-space check cannot know the size up front).
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeGguf } from '@nerion/test-support';
import { runCli } from './run-cli.js';

const { bytes: payload, sha256: payloadSha } = fakeGguf(399_996);
let server: Server;
let baseUrl: string;
const temporaries: string[] = [];
const mounted: string[] = [];

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no content-length
    for (let start = 0; start < payload.length; start += 16_384)
      response.write(payload.subarray(start, start + 16_384));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  for (const point of mounted.reverse()) spawnSync('umount', [point]);
  for (const path of temporaries) rmSync(path, { recursive: true, force: true });
  await new Promise((resolve) => server.close(resolve));
});

function mount(args: string[], point: string): string | undefined {
  const result = spawnSync('mount', [...args, point], { encoding: 'utf8' });
  if (result.status !== 0) return `mount ${args.join(' ')} failed: ${result.stderr.trim() || result.error}`;
  mounted.push(point);
  return undefined;
}

const probe = (() => {
  const point = mkdtempSync(join(tmpdir(), 'nerion-mount-probe-'));
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', point], { encoding: 'utf8' });
  if (result.status === 0) spawnSync('umount', [point]);
  rmSync(point, { recursive: true, force: true });
  return result.status === 0 ? undefined : `mounting is not permitted here (${result.stderr.trim()})`;
})();
if (probe) console.warn(`Skipping the read-only and full-disk ensure tests: ${probe}`);
const itWithMounts = probe ? it.skip : it;

/** LLAMA_CPP_MODEL_URL (no size known up front) pointing at the chunked server; the cache dir is `cacheDir`. */
function environment(cacheDir: string): Record<string, string> {
  return {
    NERION_CACHE_DIR: cacheDir,
    NERION_CODER_BACKEND: 'llama_cpp',
    LLAMA_CPP_MODEL_URL: `${baseUrl}/tiny-coder.gguf`,
    LLAMA_CPP_MODEL_SHA256: payloadSha,
  };
}

function files(folder: string): string[] {
  return (readdirSync(folder, { recursive: true }) as string[]).sort();
}

describe('nerion models ensure on a read-only or full cache disk (real mounts, local chunked HTTP server)', () => {
  itWithMounts(
    'read-only cache dir: DOWNLOAD_FAILED (exit 7) saying it is read-only and naming NERION_CACHE_DIR',
    async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-ro-cache-'));
      temporaries.push(cacheDir);
      expect(mount(['--bind', cacheDir], cacheDir)).toBeUndefined();
      expect(mount(['-o', 'remount,ro,bind'], cacheDir)).toBeUndefined();
      const run = await runCli(['models', 'ensure', '--yes'], { env: environment(cacheDir) });
      expect(run.stderr).not.toContain('INTERNAL');
      expect(run.stderr).toContain('Error [DOWNLOAD_FAILED]');
      expect(run.stderr).toContain('read-only');
      expect(run.stderr).toContain('NERION_CACHE_DIR');
      expect(run.status).toBe(7);
    },
  );

  itWithMounts(
    'full cache dir (a 128 KiB tmpfs, a 400 KB GGUF): DOWNLOAD_FAILED (exit 7), the partial file removed',
    async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-full-cache-'));
      temporaries.push(cacheDir);
      expect(mount(['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs'], cacheDir)).toBeUndefined();
      mkdirSync(join(cacheDir, 'models'));
      const run = await runCli(['models', 'ensure', '--yes'], { env: environment(cacheDir) });
      expect(run.stderr).not.toContain('INTERNAL');
      expect(run.stderr).toContain('Error [DOWNLOAD_FAILED]');
      expect(run.stderr).toContain('no space left');
      expect(run.stderr).toContain('NERION_CACHE_DIR');
      expect(run.status).toBe(7);
      expect(files(cacheDir).filter((name) => name.endsWith('.part') || name.endsWith('.gguf'))).toEqual([]);
    },
  );
});

describe('nerion models ensure when the disk fills up just after the download', () => {
  itWithMounts(
    'the GGUF fits but provisioned.json does not: DOWNLOAD_FAILED naming the record, no temp file left',
    async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-exact-cache-'));
      temporaries.push(cacheDir);
      // 98 pages of 4 KiB hold the 400,000-byte GGUF and nothing more.
      expect(mount(['-t', 'tmpfs', '-o', `size=${98 * 4}k`, 'tmpfs'], cacheDir)).toBeUndefined();
      const run = await runCli(['models', 'ensure', '--yes'], { env: environment(cacheDir) });
      expect(run.stderr).not.toContain('INTERNAL');
      expect(run.stderr).toContain('Error [DOWNLOAD_FAILED]');
      expect(run.stderr).toContain('provisioned.json');
      expect(run.stderr).toContain('no space left');
      expect(run.status).toBe(7);
      expect(files(cacheDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    },
  );
});

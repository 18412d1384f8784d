import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  fakeGguf,
  startLocalFileServer,
  startPythonHttpServer,
  type LocalFileServer,
  type PythonHttpServer,
} from '@nerion/test-support';
import { runCli, type CliRun } from './run-cli.js';

// The GGUF host is a real `python3 -m http.server` child process on 127.0.0.1 (HTTP/1.0: it closes the
// connection after every response); nothing here reaches the internet.
const { bytes: payload, sha256: payloadSha } = fakeGguf(24_000_000, { version: 3 });
let served: string;
let server: PythonHttpServer;
// A slow local server (32 KB every 20 ms) so two processes overlap in time.
const { bytes: small, sha256: smallSha } = fakeGguf(1_500_000, { version: 3 });
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

describe('nerion models ensure checks what it finds instead of trusting its record', () => {
  const ggufPath = (cacheDir: string): string => join(cacheDir, 'models', 'llama.cpp', 'small.gguf');
  const smallEnv = (env: Record<string, string>): Record<string, string> => ({
    ...env,
    LLAMA_CPP_MODEL_URL: `${slow.url}/small.gguf`,
    LLAMA_CPP_MODEL_SHA256: smallSha,
  });

  it('a changed LLAMA_CPP_MODEL_SHA256 re-hashes the recorded file: CHECKSUM_MISMATCH naming --force, never "verified"', async () => {
    const { env } = setup();
    expect((await runCli(['models', 'ensure', '--yes'], { env: smallEnv(env) })).status).toBe(0);
    const other = 'a'.repeat(64);
    const result = await runCli(['models', 'ensure', '--yes', '--json'], {
      env: { ...smallEnv(env), LLAMA_CPP_MODEL_SHA256: other },
    });
    expect(result.stdout).not.toContain('"verified": true');
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('CHECKSUM_MISMATCH');
    expect(result.stderr).toContain(smallSha);
    expect(result.stderr).toContain('--force');
  }, 60_000);

  it('--verify re-hashes a recorded file that was changed in place (same size); --force downloads it again', async () => {
    const { env, cacheDir } = setup();
    expect((await runCli(['models', 'ensure', '--yes'], { env: smallEnv(env) })).status).toBe(0);
    const tampered = Buffer.from(small);
    tampered[1000] = tampered[1000]! ^ 0xff;
    writeFileSync(ggufPath(cacheDir), tampered);
    const verified = await runCli(['models', 'ensure', '--yes', '--verify'], { env: smallEnv(env) });
    expect(verified.status).toBe(7);
    expect(verified.stderr).toContain('CHECKSUM_MISMATCH');
    // --force downloads it again; the result is the real file.
    const forced = await runCli(['models', 'ensure', '--yes', '--force', '--json'], { env: smallEnv(env) });
    expect(forced.status).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: 'downloaded', sha256: smallSha, verified: true });
    expect(readFileSync(ggufPath(cacheDir)).equals(small)).toBe(true);
  }, 60_000);

  it('a recorded file that is not a GGUF (even with a matching sha256) is refused with the way out (--force), which then works', async () => {
    const { env, cacheDir } = setup();
    const html = Buffer.from('<!doctype html><title>Sign in</title>');
    const htmlSha = createHash('sha256').update(html).digest('hex');
    mkdirSync(join(cacheDir, 'models', 'llama.cpp'), { recursive: true });
    writeFileSync(ggufPath(cacheDir), html);
    // The record an older nerion would have written for it, with a matching sha256.
    writeFileSync(
      join(cacheDir, 'provisioned.json'),
      JSON.stringify({
        version: 1,
        records: [
          {
            backend: 'llama_cpp',
            name: 'small.gguf',
            path: ggufPath(cacheDir),
            url: `${slow.url}/small.gguf`,
            sha256: htmlSha,
            verified: true,
            sizeBytes: html.length,
            provisionedAt: new Date().toISOString(),
          },
        ],
      }),
    );
    const htmlEnv = { ...smallEnv(env), LLAMA_CPP_MODEL_SHA256: htmlSha };
    const refused = await runCli(['models', 'ensure', '--yes'], { env: htmlEnv });
    expect(refused.stdout).not.toContain('present');
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('MODEL_LOAD_FAILED');
    expect(refused.stderr).toContain('is not a GGUF');
    expect(refused.stderr).toContain('--force');
    const forced = await runCli(['models', 'ensure', '--yes', '--force', '--json'], { env: smallEnv(env) });
    expect(forced.status).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: 'downloaded', sha256: smallSha, verified: true });
  }, 60_000);

  it('doctor → ensure has a way out for a provisioned file that is not a GGUF: doctor names `ensure … --force`, and that works', async () => {
    const { cacheDir, directory } = setup();
    // A user catalog whose family's GGUF (no sha256 known here) is served by the slow local server.
    const catalog = join(directory, 'catalog.yaml');
    writeFileSync(
      catalog,
      `version: 1
families:
  - id: tiny-coder
    aliases: [tiny]
    display_name: Tiny Coder
    parameters_b: 0.001
    context_length: 2048
    memory_gb: 0.1
    languages: [python]
    strengths: [plan, edit]
    backends:
      llama_cpp:
        filename: tiny-coder.gguf
        url: ${slow.url}/small.gguf
        size_bytes: ${small.length}
        sha256: "${smallSha}"
`,
    );
    const catalogEnv = {
      NERION_CACHE_DIR: cacheDir,
      NERION_MODEL_CATALOG: catalog,
      NERION_CODER_BACKEND: 'llama_cpp',
      NERION_CODER_MODEL: 'tiny',
    };
    mkdirSync(join(cacheDir, 'models', 'llama.cpp'), { recursive: true });
    writeFileSync(join(cacheDir, 'models', 'llama.cpp', 'tiny-coder.gguf'), '<html>sign in</html>');
    const doctor = await runCli(['doctor', '--json'], { env: catalogEnv });
    const llama = JSON.parse(doctor.stdout).backends.find(
      (entry: { backend: string }) => entry.backend === 'llama_cpp',
    );
    const failed = llama.checks.find((check: { ok: boolean | null }) => check.ok === false);
    expect(failed.fix).toContain('nerion models ensure --backend llama_cpp --model tiny --force');
    const plain = await runCli(['models', 'ensure', '--yes'], { env: catalogEnv });
    expect(plain.status).toBe(3);
    expect(plain.stderr).toContain('--force');
    const forced = await runCli(
      ['models', 'ensure', '--backend', 'llama_cpp', '--model', 'tiny', '--force', '--yes', '--json'],
      {
        env: catalogEnv,
      },
    );
    expect(forced.status).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: 'downloaded', sha256: smallSha, verified: true });
  }, 60_000);

  it('a download that is not a GGUF is not installed, even when its sha256 matches', async () => {
    const { env, cacheDir } = setup();
    const page = '<html>login</html>';
    writeFileSync(join(served, 'page.gguf'), page);
    const result = await runCli(['models', 'ensure', '--yes'], {
      env: {
        ...env,
        LLAMA_CPP_MODEL_URL: `${server.url}/page.gguf`,
        LLAMA_CPP_MODEL_SHA256: createHash('sha256').update(page).digest('hex'),
      },
    });
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('DOWNLOAD_FAILED');
    expect(existsSync(join(cacheDir, 'models', 'llama.cpp', 'page.gguf'))).toBe(false);
    expect(existsSync(join(cacheDir, 'models', 'llama.cpp', 'page.gguf.part'))).toBe(false);
  }, 60_000);
});

describe('LLAMA_CPP_MODEL_PATH naming something that is not a GGUF file is refused before any byte is fetched', () => {
  it('a directory: CONFIG_INVALID (exit 2) naming LLAMA_CPP_MODEL_PATH; no request, no .part', async () => {
    const { env, directory } = setup();
    const target = join(directory, 'models-dir');
    mkdirSync(target);
    const before = slow.requests.length;
    const result = await runCli(['models', 'ensure', '--yes', '--json'], {
      env: { ...env, LLAMA_CPP_MODEL_URL: `${slow.url}/small.gguf`, LLAMA_CPP_MODEL_PATH: target },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain('is a directory');
    expect(JSON.parse(result.stdout).error.fix).toEqual({ settings: ['LLAMA_CPP_MODEL_PATH'] });
    expect(slow.requests.length).toBe(before);
    expect(existsSync(`${target}.part`)).toBe(false);
  }, 60_000);

  it('an existing file that is not a GGUF is not adopted as "present (unverified)"', async () => {
    const { env, directory } = setup();
    const target = join(directory, 'notes.gguf');
    writeFileSync(target, 'these are my notes, not a model\n');
    const before = slow.requests.length;
    const result = await runCli(['models', 'ensure', '--yes'], {
      env: { ...env, LLAMA_CPP_MODEL_URL: `${slow.url}/small.gguf`, LLAMA_CPP_MODEL_PATH: target },
    });
    expect(result.stdout).not.toContain('present');
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('is not a GGUF');
    expect(result.stderr).toContain('LLAMA_CPP_MODEL_PATH');
    expect(readFileSync(target, 'utf8')).toBe('these are my notes, not a model\n');
    expect(slow.requests.length).toBe(before);
  }, 60_000);
});

import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeGguf, startLocalFileServer, type LocalFileServer } from '@nerion/test-support';
import { runCli } from './run-cli.js';

// A local HTTP file server on 127.0.0.1 stands in for the GGUF host; nothing here reaches the internet.
const { bytes: payload, sha256: payloadSha } = fakeGguf(200_000);
let server: LocalFileServer;
beforeAll(async () => {
  server = await startLocalFileServer({
    files: { '/tiny.gguf': payload },
    failures: { '/broken.gguf': { status: 503, body: 'busy' } },
  });
});
afterAll(() => server.close());

interface Setup {
  env: Record<string, string>;
  cacheDir: string;
  ggufPath: string;
}

/** A user catalog (NERION_MODEL_CATALOG) whose GGUF URL points at the local server, and a temp cache dir. */
function setup(options: { path?: string; sha256?: string; size?: number; parametersB?: number } = {}): Setup {
  const directory = mkdtempSync(join(tmpdir(), 'nerion-ensure-'));
  const catalogPath = join(directory, 'catalog.yaml');
  writeFileSync(
    catalogPath,
    `version: 1
families:
  - id: tiny-coder
    aliases: [tiny]
    display_name: Tiny Coder
    parameters_b: ${options.parametersB ?? 0.001}
    context_length: 2048
    memory_gb: 0.1
    languages: [python]
    strengths: [plan, edit]
    backends:
      llama_cpp:
        filename: tiny-coder.gguf
        url: ${server.url}${options.path ?? '/tiny.gguf'}
        size_bytes: ${options.size ?? payload.length}
        sha256: "${options.sha256 ?? payloadSha}"
`,
  );
  const cacheDir = join(directory, 'cache');
  return {
    env: {
      NERION_MODEL_CATALOG: catalogPath,
      NERION_CACHE_DIR: cacheDir,
      NERION_CODER_BACKEND: 'llama_cpp',
      NERION_CODER_MODEL: 'tiny',
    },
    cacheDir,
    ggufPath: join(cacheDir, 'models', 'llama.cpp', 'tiny-coder.gguf'),
  };
}

describe('nerion models ensure --backend llama_cpp (built binary; GGUF served by a local HTTP server on 127.0.0.1)', () => {
  it('--yes downloads, verifies and records the GGUF; models list then shows it installed; a second run fetches nothing', async () => {
    const { env, ggufPath, cacheDir } = setup();
    const result = await runCli(['models', 'ensure', '--yes', '--json'], { env });
    expect(result.stderr).not.toContain('Error');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      backend: 'llama_cpp',
      family: 'tiny-coder',
      status: 'downloaded',
      path: ggufPath,
      verified: true,
      sha256: payloadSha,
    });
    expect(readFileSync(ggufPath).equals(payload)).toBe(true);
    expect(JSON.parse(readFileSync(join(cacheDir, 'provisioned.json'), 'utf8')).records).toEqual([
      expect.objectContaining({ family: 'tiny-coder', path: ggufPath }),
    ]);

    const list = await runCli(['models', 'list', '--json'], {
      env: { NERION_MODEL_CATALOG: env.NERION_MODEL_CATALOG!, NERION_CACHE_DIR: cacheDir },
    });
    expect(list.status).toBe(0);
    const tiny = JSON.parse(list.stdout).families.find((family: { id: string }) => family.id === 'tiny-coder');
    expect(tiny.backends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ backend: 'llama_cpp', state: 'installed', location: ggufPath }),
        expect.objectContaining({ backend: 'vllm', state: 'no-build' }),
      ]),
    );

    const before = server.requests.length;
    const again = await runCli(['models', 'ensure', '--json'], { env });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'present', path: ggufPath });
    expect(server.requests.length).toBe(before);
  });

  it('without consent nothing is fetched: exit 4 (CONSENT_REQUIRED) and the message says how to consent', async () => {
    const { env, ggufPath } = setup();
    const before = server.requests.length;
    const result = await runCli(['models', 'ensure', '--json'], { env });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('NERION_ALLOW_NETWORK=1');
    expect(result.stderr).toContain('--yes');
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'CONSENT_REQUIRED', exitStatus: 4 } });
    expect(server.requests.length).toBe(before);
    expect(existsSync(ggufPath)).toBe(false);
  });

  it('NERION_ALLOW_NETWORK=1 is consent too; an interrupted transfer is resumed by the next run with a Range request', async () => {
    const { env, ggufPath } = setup();
    server.interruptNext(64_000);
    const first = await runCli(['models', 'ensure'], { env: { ...env, NERION_ALLOW_NETWORK: '1' } });
    expect(first.status).toBe(7);
    expect(first.stderr).toContain('DOWNLOAD_FAILED');
    const kept = statSync(`${ggufPath}.part`).size;
    expect(kept).toBeGreaterThan(0);

    const second = await runCli(['models', 'ensure', '--json'], { env: { ...env, NERION_ALLOW_NETWORK: '1' } });
    expect(second.status).toBe(0);
    expect(server.requests.at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'downloaded', verified: true });
    expect(readFileSync(ggufPath).equals(payload)).toBe(true);
    // Not a TTY: progress comes as plain lines on stderr, never on stdout.
    expect(second.stderr).toMatch(/Downloading tiny-coder: 100% /);
    // The resume is said when it starts (before any progress line), not only at the end.
    const lines = second.stderr.split('\n').filter((line) => line.startsWith('Downloading tiny-coder'));
    expect(lines[0]).toMatch(
      new RegExp(`^Downloading tiny-coder: resuming from byte ${kept} \\(.+ already downloaded\\)$`),
    );
    expect(second.stderr).not.toContain('Resumed from byte');
  });

  it('a wrong checksum fails with exit 7 and leaves no part file', async () => {
    const { env, ggufPath } = setup({ sha256: 'a'.repeat(64) });
    const result = await runCli(['models', 'ensure', '--yes', '--json'], { env });
    expect(result.status).toBe(7);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'CHECKSUM_MISMATCH' } });
    expect(existsSync(`${ggufPath}.part`)).toBe(false);
    expect(existsSync(ggufPath)).toBe(false);
  });

  it('a server error fails with exit 7 naming the HTTP status', async () => {
    const { env } = setup({ path: '/broken.gguf' });
    const result = await runCli(['models', 'ensure', '--yes'], { env });
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('HTTP 503');
  });

  it('refuses to start when the file is larger than the free disk space (exit 7, INSUFFICIENT_DISK, no request)', async () => {
    const { env } = setup({ size: 900_000_000_000_000 });
    const before = server.requests.length;
    const result = await runCli(['models', 'ensure', '--yes', '--json'], { env });
    expect(result.status).toBe(7);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'INSUFFICIENT_DISK' } });
    expect(server.requests.length).toBe(before);
  });

  it('LLAMA_CPP_MODEL_URL overrides the catalog URL: the catalog checksum does not apply and the download is reported unverified', async () => {
    const { env, cacheDir } = setup({ path: '/nowhere.gguf', sha256: 'b'.repeat(64) });
    const result = await runCli(['models', 'ensure', '--yes', '--json'], {
      env: { ...env, LLAMA_CPP_MODEL_URL: `${server.url}/tiny.gguf` },
    });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'downloaded',
      verified: false,
      url: `${server.url}/tiny.gguf`,
      path: join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf'),
    });
    expect(result.stderr).toContain('unverified');
    expect(result.stderr).toContain('LLAMA_CPP_MODEL_SHA256');
  });

  it('--auto picks the best model that fits this machine and provisions it', async () => {
    // The user catalog's tiny-coder claims more parameters than any packaged family and needs 0.1 GB, so it
    // ranks first on any machine; the packaged families (real internet URLs) are never chosen here.
    const { env, ggufPath } = setup({ parametersB: 1000 });
    const result = await runCli(['models', 'ensure', '--auto', '--yes', '--json'], {
      env: { ...env, NERION_CODER_MODEL: '' },
    });
    expect(result.stderr).not.toContain('huggingface.co');
    expect(result.status).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ model: 'tiny-coder', status: 'downloaded', path: ggufPath, verified: true });
    expect(body.reasons.length).toBeGreaterThan(0);
  });

  it('an unknown model is exit 2 listing the known ones', async () => {
    const { env } = setup();
    const result = await runCli(['models', 'ensure', '--model', 'tiny-cod', '--yes'], { env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('UNKNOWN_MODEL');
    expect(result.stderr).toContain('tiny-coder (aliases: tiny)');
  });
});

describe('nerion models ensure for vllm and exllamav2 prints the exact commands', () => {
  it('vllm: vllm serve <repo> --served-model-name <name> --host 127.0.0.1 --port 8000', async () => {
    const result = await runCli(['models', 'ensure', '--backend', 'vllm', '--model', 'qwen2.5-coder']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      'vllm serve Qwen/Qwen2.5-Coder-7B-Instruct --served-model-name qwen2.5-coder --host 127.0.0.1 --port 8000',
    );
    expect(result.stdout).toContain('export NERION_CODER_BASE_URL=http://127.0.0.1:8000');
  });

  it('exllamav2: the download into $NERION_CACHE_DIR/models/exl/<model> and EXLLAMA_MODEL_DIR', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-exl-'));
    const result = await runCli(['models', 'ensure', '--backend', 'exllamav2', '--model', 'qwen2.5-coder'], {
      env: { NERION_CACHE_DIR: cacheDir },
    });
    expect(result.status).toBe(0);
    const directory = join(cacheDir, 'models', 'exl', 'qwen2.5-coder');
    expect(result.stdout).toContain(
      `hf download bartowski/Qwen2.5-Coder-7B-Instruct-exl2 --revision 6_5 --local-dir ${directory}`,
    );
    expect(result.stdout).toContain(`export EXLLAMA_MODEL_DIR=${directory}`);
  });
});

import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeGguf, rejection, startLocalFileServer, type LocalFileServer } from '@nerion/test-support';
import {
  findProvisionedGguf,
  parseCatalog,
  provisionGguf,
  readProvisioned,
  type CatalogFamily,
  type DownloadProgress,
} from './index.js';

const { bytes: payload, sha256: payloadSha } = fakeGguf(300_000);

// A local HTTP file server on 127.0.0.1 with Range support stands in for the GGUF host.
let server: LocalFileServer;
beforeAll(async () => {
  server = await startLocalFileServer({
    files: { '/model.gguf': payload },
    failures: { '/broken.gguf': { status: 500, body: 'internal error' } },
    redirects: { '/redirect.gguf': '/model.gguf' },
  });
});
afterAll(() => server.close());

function familyFor(
  path: string,
  sha256: string | null = payloadSha,
  size: number | null = payload.length,
): CatalogFamily {
  const text = `version: 1
families:
  - id: tiny-coder
    display_name: Tiny
    parameters_b: 0.001
    context_length: 2048
    memory_gb: 0.1
    languages: [python]
    strengths: [edit]
    backends:
      llama_cpp:
        filename: tiny.gguf
        url: ${server.url}${path}
        size_bytes: ${size}
        sha256: ${sha256 === null ? 'null' : `"${sha256}"`}
`;
  return parseCatalog(text, 'test.yaml').families[0]!;
}

const tempCache = (): string => mkdtempSync(join(tmpdir(), 'nerion-cache-'));

describe('provisionGguf against a local HTTP server on 127.0.0.1', () => {
  it('downloads, verifies, renames atomically, records it, and finds it again without any setting', async () => {
    const cacheDir = tempCache();
    const family = familyFor('/model.gguf');
    const progress: DownloadProgress[] = [];
    const result = await provisionGguf({
      family,
      cacheDir,
      consent: true,
      onProgress: (report) => progress.push(report),
    });
    expect(result).toMatchObject({ status: 'downloaded', verified: true, sha256: payloadSha, resumedFromBytes: 0 });
    expect(result.path).toBe(join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf'));
    expect(readFileSync(result.path).equals(payload)).toBe(true);
    expect(existsSync(`${result.path}.part`)).toBe(false);
    expect(progress.at(-1)).toMatchObject({ done: true, receivedBytes: payload.length, totalBytes: payload.length });
    expect(readProvisioned(cacheDir)).toEqual([
      expect.objectContaining({ backend: 'llama_cpp', family: 'tiny-coder', path: result.path, verified: true }),
    ]);
    expect(findProvisionedGguf(cacheDir, family)).toBe(result.path);
    expect(findProvisionedGguf(cacheDir, 'tiny-coder')).toBe(result.path);

    const before = server.requests.length;
    const again = await provisionGguf({ family, cacheDir, consent: false });
    expect(again.status).toBe('present');
    expect(server.requests.length).toBe(before);
  });

  it('breaks a stale download lock left by a process that died (not refreshed for over 30 s) and removes it after', async () => {
    const cacheDir = tempCache();
    const family = familyFor('/model.gguf');
    const lock = join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf.lock');
    mkdirSync(lock, { recursive: true });
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    const waits: string[] = [];
    const result = await provisionGguf({ family, cacheDir, consent: true, onWait: (message) => waits.push(message) });
    expect(result).toMatchObject({ status: 'downloaded', verified: true });
    expect(waits).toEqual([]);
    expect(existsSync(lock)).toBe(false);
  });

  it('resumes an interrupted transfer with a Range request and still verifies the whole file', async () => {
    const cacheDir = tempCache();
    const family = familyFor('/model.gguf');
    server.interruptNext(100_000);
    const first = await rejection(provisionGguf({ family, cacheDir, consent: true }));
    expect(first.code).toBe('DOWNLOAD_FAILED');
    expect(first.message).toContain('run the same command again to resume');
    const part = join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf.part');
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(payload.length);

    const result = await provisionGguf({ family, cacheDir, consent: true });
    expect(server.requests.at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(result).toMatchObject({ status: 'downloaded', verified: true, resumedFromBytes: kept });
    expect(readFileSync(result.path).equals(payload)).toBe(true);
  });

  it('a wrong checksum deletes the part file and fails with CHECKSUM_MISMATCH', async () => {
    const cacheDir = tempCache();
    const error = await rejection(
      provisionGguf({ family: familyFor('/model.gguf', 'f'.repeat(64)), cacheDir, consent: true }),
    );
    expect(error.code).toBe('CHECKSUM_MISMATCH');
    expect(existsSync(join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf.part'))).toBe(false);
    expect(existsSync(join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf'))).toBe(false);
    expect(readProvisioned(cacheDir)).toEqual([]);
  });

  it('a server error is DOWNLOAD_FAILED naming the status and the URL', async () => {
    const error = await rejection(
      provisionGguf({ family: familyFor('/broken.gguf'), cacheDir: tempCache(), consent: true }),
    );
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('/broken.gguf');
  });

  it('without consent nothing is fetched (CONSENT_REQUIRED)', async () => {
    const before = server.requests.length;
    const asked: string[] = [];
    const error = await rejection(
      provisionGguf({
        family: familyFor('/model.gguf'),
        cacheDir: tempCache(),
        consent: ({ url }) => (asked.push(url), false),
      }),
    );
    expect(error.code).toBe('CONSENT_REQUIRED');
    expect(error.message).toContain('NERION_ALLOW_NETWORK=1');
    expect(asked).toEqual([`${server.url}/model.gguf`]);
    expect(server.requests.length).toBe(before);
  });

  it('refuses to start when the disk has less free space than the file needs (injected statfs)', async () => {
    const before = server.requests.length;
    const error = await rejection(
      provisionGguf({
        family: familyFor('/model.gguf'),
        cacheDir: tempCache(),
        consent: true,
        statfs: async () => ({ bavail: 10, bsize: 4096 }),
      }),
    );
    expect(error.code).toBe('INSUFFICIENT_DISK');
    expect(error.message).toContain('NERION_CACHE_DIR');
    expect(server.requests.length).toBe(before);
  });

  it('with an unknown size, the disk check uses the server-announced length before writing', async () => {
    const cacheDir = tempCache();
    const error = await rejection(
      provisionGguf({
        family: familyFor('/model.gguf', payloadSha, null),
        cacheDir,
        consent: true,
        statfs: async () => ({ bavail: 1, bsize: 4096 }),
      }),
    );
    expect(error.code).toBe('INSUFFICIENT_DISK');
    expect(existsSync(join(cacheDir, 'models', 'llama.cpp', 'tiny.gguf.part'))).toBe(false);
  });

  it('LLAMA_CPP_MODEL_URL overrides the catalog URL; then only LLAMA_CPP_MODEL_SHA256 applies, else it is unverified', async () => {
    // The catalog's checksum is wrong for this file, but it must not be applied to an overriding URL.
    const family = familyFor('/elsewhere.gguf', 'e'.repeat(64));
    const unverified = await provisionGguf({
      family,
      cacheDir: tempCache(),
      consent: true,
      modelUrl: `${server.url}/redirect.gguf`,
    });
    expect(unverified).toMatchObject({
      status: 'downloaded',
      verified: false,
      sha256: payloadSha,
      source: { origin: 'override', filename: 'redirect.gguf' },
    });

    const verified = await provisionGguf({
      family,
      cacheDir: tempCache(),
      consent: true,
      modelUrl: `${server.url}/model.gguf`,
      modelSha256: payloadSha,
    });
    expect(verified).toMatchObject({ verified: true, source: { origin: 'override', filename: 'model.gguf' } });

    const mismatch = await rejection(
      provisionGguf({
        family,
        cacheDir: tempCache(),
        consent: true,
        modelUrl: `${server.url}/model.gguf`,
        modelSha256: '0'.repeat(64),
      }),
    );
    expect(mismatch.code).toBe('CHECKSUM_MISMATCH');
  });

  it('adopts a file already at the default path after checking its checksum', async () => {
    const cacheDir = tempCache();
    const family = familyFor('/model.gguf');
    const first = await provisionGguf({ family, cacheDir, consent: true });
    writeFileSync(join(cacheDir, 'provisioned.json'), JSON.stringify({ version: 1, records: [] }));
    const before = server.requests.length;
    const adopted = await provisionGguf({ family, cacheDir, consent: false });
    expect(adopted).toMatchObject({ status: 'present', verified: true, path: first.path });
    expect(server.requests.length).toBe(before);
  });
});

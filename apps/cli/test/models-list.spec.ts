import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

// A protocol-faithful stand-in for Ollama's /api/version and /api/tags (Ollama cannot be installed here).
let ollama: Server;
let ollamaUrl: string;
beforeAll(async () => {
  ollama = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/api/version') return void response.end(JSON.stringify({ version: '0.6.4' }));
    if (request.url === '/api/tags') {
      return void response.end(
        JSON.stringify({
          models: [
            { name: 'qwen2.5-coder:7b', model: 'qwen2.5-coder:7b', size: 4683087332, digest: 'abc', details: {} },
          ],
        }),
      );
    }
    response.statusCode = 404;
    response.end('{}');
  });
  await new Promise<void>((resolve) => ollama.listen(0, '127.0.0.1', resolve));
  ollamaUrl = `http://127.0.0.1:${(ollama.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => ollama.close(() => resolve()));
});

describe('nerion models list (built binary)', () => {
  it('--json lists the four families × four backends; Ollama tags come from /api/tags of a protocol-faithful local Ollama stand-in', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-list-'));
    const result = await runCli(['models', 'list', '--json'], {
      env: { NERION_CACHE_DIR: cacheDir, NERION_CODER_BASE_URL: ollamaUrl },
    });
    expect(result.status).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.families.map((family: { id: string }) => family.id)).toEqual([
      'deepseek-coder-v2',
      'qwen2.5-coder',
      'starcoder2',
      'codellama',
    ]);
    const byId = Object.fromEntries(
      body.families.map((family: { id: string; backends: unknown[] }) => [family.id, family.backends]),
    );
    expect(byId['qwen2.5-coder']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ backend: 'ollama', name: 'qwen2.5-coder:7b', state: 'installed' }),
        expect.objectContaining({
          backend: 'llama_cpp',
          name: 'qwen2.5-coder-7b-instruct-q4_k_m.gguf',
          state: 'missing',
        }),
      ]),
    );
    expect(byId['codellama']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ backend: 'ollama', state: 'missing' }),
        expect.objectContaining({ backend: 'exllamav2', state: 'no-build' }),
      ]),
    );
  });

  it('an engine that does not answer is "unknown" with the reason, and the table still prints', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-list-'));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runCli(['models', 'list'], {
      env: { NERION_CACHE_DIR: cacheDir, NERION_CODER_BASE_URL: `http://127.0.0.1:${port}` },
    });
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^family\s+ollama\s+llama_cpp\s+vllm\s+exllamav2/);
    expect(result.stdout).toMatch(/qwen2\.5-coder\s+unknown\s+missing/);
    expect(result.stderr).toContain('ollama:');
  });

  it('a broken user catalog is exit 2 naming the file and line', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-list-'));
    const path = join(directory, 'bad.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'version: 1\nfamilies:\n  - id: x\n    display_name: X\n');
    const result = await runCli(['models', 'list', '--json'], { env: { NERION_MODEL_CATALOG: path } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${path}:3:`);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'CATALOG_INVALID' } });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, startLocalOllamaServer, type LocalOllamaServer } from '@nerion/test-support';
import { runCliInTerminal, screenLines } from './terminal.js';

/** The Ollama pull consent prompt as a person sees it (real pseudo-terminal; Ollama stand-in from test-support). */
describe('models ensure --backend ollama: the consent prompt on a terminal (Ollama stand-in)', () => {
  let server: LocalOllamaServer;
  let cache: string;

  beforeAll(async () => {
    server = await startLocalOllamaServer({
      models: {},
      pullable: { 'nerion-tiny': fixturePaths().tinyLlama },
      threads: 1,
    });
    cache = mkdtempSync(join(tmpdir(), 'nerion-ensure-tty-'));
  }, 60_000);

  afterAll(async () => {
    await server.close();
    rmSync(cache, { recursive: true, force: true });
  });

  const run = (answer: string) =>
    runCliInTerminal(['models', 'ensure', '--backend', 'ollama', '--model', 'nerion-tiny'], {
      env: { NERION_CODER_BASE_URL: server.url, NERION_CACHE_DIR: cache },
      input: answer,
      timeoutMs: 60_000,
    });

  it('says what happens; "n" (or Enter) downloads nothing and exits 4', async () => {
    const refused = await run('n\n');
    const question = `Pull nerion-tiny from the Ollama library into the Ollama server at ${server.url}? [y/N]`;
    expect(refused.stdout).toContain(question);
    expect(refused.stdout).not.toContain('Download ollama pull');
    expect(refused.status).toBe(4);
    expect(refused.stdout).toContain('CONSENT_REQUIRED');
    expect(server.installedModels()).not.toContain('nerion-tiny:latest');
  }, 90_000);

  it('"y" pulls through the Ollama server', async () => {
    const accepted = await run('y\n');
    expect(accepted.status).toBe(0);
    expect(screenLines(accepted.stdout).some((line) => line.startsWith('ollama nerion-tiny: pulled'))).toBe(true);
    expect(server.installedModels()).toContain('nerion-tiny:latest');
  }, 90_000);
});

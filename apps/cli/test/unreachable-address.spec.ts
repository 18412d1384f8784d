import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '@nerion/test-support';
import { runCli } from './run-cli.js';

interface ErrorJson {
  error: { code: string; message: string; data: Record<string, unknown>; fix?: { settings?: string[] } };
}

/**
 * An endpoint nobody answers at, for each HTTP backend (Ollama via OLLAMA_HOST, vLLM, exllamav2's TabbyAPI
 * mode): the strict LLM plan fails with BACKEND_UNREACHABLE naming the address, the cause (refused, or a
 * port Node's fetch refuses outright) and the settings that fix it — never a bare "fetch failed".
 */
describe('nerion plan --llm (strict) against an address that refuses or that fetch blocks', () => {
  let home: string;
  let refusedPort: number;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-unreachable-'));
    refusedPort = await closedPort();
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const cases = [
    { backend: 'ollama', variable: 'OLLAMA_HOST', value: (port: number) => `127.0.0.1:${port}`, name: 'Ollama' },
    {
      backend: 'vllm',
      variable: 'NERION_VLLM_BASE_URL',
      value: (port: number) => `http://127.0.0.1:${port}`,
      name: 'vLLM',
    },
    {
      backend: 'exllamav2',
      variable: 'NERION_EXL_BASE_URL',
      value: (port: number) => `http://127.0.0.1:${port}`,
      name: 'TabbyAPI (exllamav2)',
    },
  ] as const;

  const plan = (backend: string, env: Record<string, string>) =>
    runCli(['plan', '-i', 'add a function foo to a.ts', '--llm', '--no-cache', '--backend', backend, '--json'], {
      env: { ...env, HOME: home, NERION_CACHE_DIR: join(home, 'cache'), NERION_LLM_STRICT: '1' },
      cwd: home,
    });

  it.each(cases)(
    '$backend, $variable on a port where nothing listens: ECONNREFUSED in message and data',
    async (entry) => {
      const run = await plan(entry.backend, { [entry.variable]: entry.value(refusedPort) });
      expect(run.status).toBe(3);
      const { error } = JSON.parse(run.stdout) as ErrorJson;
      expect(error.code).toBe('BACKEND_UNREACHABLE');
      expect(error.message).toContain(
        `${entry.name} is not answering at http://127.0.0.1:${refusedPort} (connection refused: nothing listens on that port, ECONNREFUSED) — `,
      );
      expect(error.data).toMatchObject({ baseUrl: `http://127.0.0.1:${refusedPort}`, code: 'ECONNREFUSED' });
      expect(error.fix?.settings).toContain(entry.backend === 'ollama' ? 'OLLAMA_HOST' : entry.variable);
    },
  );

  it.each(cases)(
    '$backend, $variable on port 6000 (fetch-blocked): BAD_PORT and the base-URL settings, not "fetch failed"',
    async (entry) => {
      const run = await plan(entry.backend, { [entry.variable]: entry.value(6000) });
      expect(run.status).toBe(3);
      const { error } = JSON.parse(run.stdout) as ErrorJson;
      expect(error.code).toBe('BACKEND_UNREACHABLE');
      expect(error.message).toContain(
        `nerion cannot connect to ${entry.name} at http://127.0.0.1:6000: port 6000 is on the fetch standard's list of blocked ports`,
      );
      expect(error.message).not.toContain('fetch failed');
      expect(run.stderr).toContain('Error [BACKEND_UNREACHABLE]: nerion cannot connect to');
      expect(error.data).toMatchObject({ baseUrl: 'http://127.0.0.1:6000', code: 'BAD_PORT' });
      expect(error.fix?.settings).toContain(entry.backend === 'ollama' ? 'OLLAMA_HOST' : entry.variable);
    },
  );
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, vllmStandInCommand, freePort } from '@nerion/test-support';
import { isProcessAlive } from '@nerion/backend-core';
import { listVllmServers, stopVllmServers } from '@nerion/backend-vllm';
import { runCli } from './run-cli.js';

const CATALOG = (ggufPath: string): string => `version: 1
families:
  - id: nerion-tiny
    display_name: nerion tiny test model
    parameters_b: 0.001
    context_length: 2048
    memory_gb: 0.1
    languages: [python]
    strengths: [plan]
    backends:
      vllm:
        repo: ${JSON.stringify(ggufPath)}
        served_name: nerion-tiny-served
`;

/**
 * NERION_CODER_BACKEND=vllm with NERION_AUTOSTART_VLLM=1 through the built CLI. vLLM cannot be installed
 * here, so NERION_VLLM_COMMAND launches the vLLM stand-in (a protocol-faithful OpenAI-compatible server on
 * the tiny GGUF via node-llama-cpp) with the same arguments nerion gives `vllm serve`; the catalog maps the
 * family to the "repo" (the GGUF) and the served name.
 */
describe('nerion with NERION_AUTOSTART_VLLM=1 launching the vLLM stand-in (real child processes, real GGUF), and `nerion models stop`', () => {
  let home: string;
  let repo: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-vllm-cli-'));
    repo = await mkdtemp(join(tmpdir(), 'nerion-vllm-repo-'));
    await writeFile(join(home, 'catalog.yaml'), CATALOG(fixturePaths().tinyLlama));
    const port = await freePort();
    env = {
      NERION_CODER_BACKEND: 'vllm',
      NERION_CODER_MODEL: 'nerion-tiny',
      NERION_CODER_BASE_URL: `http://127.0.0.1:${port}`,
      NERION_AUTOSTART_VLLM: '1',
      NERION_VLLM_COMMAND: vllmStandInCommand()
        .map((word) => JSON.stringify(word))
        .join(' '),
      NERION_SERVER_START_TIMEOUT: '90',
      NERION_MODEL_CATALOG: join(home, 'catalog.yaml'),
      NERION_CACHE_DIR: join(home, 'cache'),
    };
  });

  afterAll(async () => {
    const cacheDir = join(home, 'cache');
    if (existsSync(cacheDir)) await stopVllmServers({ cacheDir, graceMs: 3000 });
    await rm(home, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  }, 60_000);

  it('`models stop --json` with nothing recorded reports an empty list and exits 0', async () => {
    const result = await runCli(['models', 'stop', '--json'], { env: { NERION_CACHE_DIR: join(home, 'empty-cache') } });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ stopped: [] });
  });

  it('plan --llm starts the server (progress on stderr), a second nerion (doctor) reuses it, and `models stop --json` ends it with no orphan', async () => {
    const first = await runCli(['plan', '-i', 'create a file hello.py', '--llm'], {
      env,
      cwd: repo,
      timeoutMs: 120_000,
    });
    expect(first.stderr).toContain('Starting vLLM:');
    expect(first.stderr).toContain('--served-model-name nerion-tiny-served --host 127.0.0.1 --port');
    expect(first.stderr).toContain('vLLM is ready');
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toHaveProperty('actions');

    const servers = listVllmServers(join(home, 'cache'));
    expect(servers).toHaveLength(1);
    const pid = servers[0]!.pid;
    expect(servers[0]).toMatchObject({ model: 'nerion-tiny-served', repo: fixturePaths().tinyLlama, alive: true });

    // A second nerion (doctor generates a strict-JSON probe) finds it answering and starts nothing.
    const second = await runCli(['doctor', '--json'], { env, cwd: repo, timeoutMs: 120_000 });
    expect(second.stderr).not.toContain('Starting vLLM');
    const doctor = JSON.parse(second.stdout) as {
      backends: { backend: string; usable: boolean; checks: { check: string; ok: boolean | null }[] }[];
    };
    const vllm = doctor.backends.find((entry) => entry.backend === 'vllm')!;
    expect(vllm.usable).toBe(true);
    expect(vllm.checks.find((check) => check.check === 'strict_json')?.ok).toBe(true);
    expect(listVllmServers(join(home, 'cache')).map((server) => server.pid)).toEqual([pid]);

    const stop = await runCli(['models', 'stop', '--json'], { env });
    expect(stop.status).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({
      stopped: [{ backend: 'vllm', pid, model: 'nerion-tiny-served', wasRunning: true, signal: 'SIGTERM' }],
    });
    expect(isProcessAlive(pid)).toBe(false);
    expect(listVllmServers(join(home, 'cache'))).toEqual([]);
  }, 240_000);
});

/**
 * Autostart against a real child process: the launch command is the vLLM stand-in's entry
 * (`node --import <tsx> …/openai-server/main.ts serve`), which accepts the arguments nerion gives `vllm serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePaths, vllmStandInCommand, freePort, rejection } from '@nerion/test-support';
import { isProcessAlive } from '@nerion/backend-core';
import { readVllmPidFile } from './pid-file.js';
import { stopProcessGroup } from '@nerion/backend-core';
import {
  createVllmBackend,
  ensureVllmServer,
  listVllmServers,
  stopVllmServers,
  vllmLogFile,
  vllmPidFile,
  type VllmAutostartSettings,
} from './index.js';

const STAND_IN = vllmStandInCommand();
const MODEL = 'qwen2.5-coder';
const temporary = mkdtempSync(join(tmpdir(), 'nerion-vllm-autostart-'));
const seenPids = new Set<number>();

function autostart(cacheDir: string, overrides: Partial<VllmAutostartSettings> = {}): VllmAutostartSettings {
  return {
    repo: fixturePaths().tinyLlama,
    cacheDir,
    command: STAND_IN,
    startTimeoutMs: 60_000,
    pollIntervalMs: 100,
    progressIntervalMs: 1000,
    ...overrides,
  };
}

function remember(cacheDir: string): void {
  for (const record of listVllmServers(cacheDir)) seenPids.add(record.pid);
}

beforeAll(() => {
  // Autostart spawns `node --import tsx` on the stand-in, which loads the built @nerion/backend-llamacpp.
  if (!existsSync(join(fixturePaths().workspaceRoot, 'libs/backend-llamacpp/dist/index.js'))) {
    throw new Error(
      'Build first: npx tsc -b libs/backend-llamacpp/tsconfig.lib.json (the stand-in child process loads the built package).',
    );
  }
});

afterAll(async () => {
  // Whatever a failing test left behind: stop every recorded server, then any pid we saw.
  const caches = [
    join(temporary, 'ready'),
    join(temporary, 'race'),
    join(temporary, 'fail'),
    join(temporary, 'timeout'),
    join(temporary, 'close'),
  ];
  for (const cacheDir of caches) if (existsSync(cacheDir)) await stopVllmServers({ cacheDir, graceMs: 3000 });
  for (const pid of seenPids) if (isProcessAlive(pid)) await stopProcessGroup(pid, 3000);
  rmSync(temporary, { recursive: true, force: true });
}, 60_000);

describe('vllm autostart with the vLLM stand-in as the launch command (real child process, real GGUF via node-llama-cpp)', () => {
  it('starts the server when nothing answers, with progress, a log file and a pid file; a second backend reuses it; stop leaves no orphan', async () => {
    const cacheDir = join(temporary, 'ready');
    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const progress: string[] = [];
    const first = createVllmBackend({
      model: MODEL,
      baseUrl,
      autostart: autostart(cacheDir, {
        parallelism: { tensorParallelSize: 2, pipelineParallelSize: 1, distributedExecutorBackend: 'mp' },
        extraArgs: ['--max-model-len', '2048'],
      }),
      progress: (line) => progress.push(line),
    });
    try {
      const before = await first.probe();
      expect(before.available).toBe(false);
      expect(before.reason).toContain('autostart is on');

      const result = await first.generate({
        messages: [{ role: 'user', content: 'hi' }],
        maxTokens: 4,
        temperature: 0,
      });
      remember(cacheDir);
      expect(['stop', 'length']).toContain(result.finishReason);
      expect(first.server?.outcome).toBe('started');
      const pid = first.server!.pid!;
      expect(isProcessAlive(pid)).toBe(true);
      expect(progress[0]).toContain(`--served-model-name ${MODEL} --host 127.0.0.1 --port ${port}`);
      expect(progress[0]).toContain(`pid ${pid}`);
      expect(progress.at(-1)).toContain('vLLM is ready');

      const record = readVllmPidFile(vllmPidFile(cacheDir, port))!;
      expect(record).toMatchObject({ pid, port, model: MODEL, repo: fixturePaths().tinyLlama, alive: true });
      expect(record.argv.slice(0, STAND_IN.length)).toEqual(STAND_IN);
      // The parallelism settings went through as argv words (no shell), before the extra arguments.
      expect(record.argv.slice(-8)).toEqual([
        '--tensor-parallel-size',
        '2',
        '--pipeline-parallel-size',
        '1',
        '--distributed-executor-backend',
        'mp',
        '--max-model-len',
        '2048',
      ]);
      const log = readFileSync(vllmLogFile(cacheDir, port), 'utf8');
      expect(log).toContain('=== nerion autostart');
      expect(log).toContain('vLLM stand-in');
      expect(log).toContain(
        'parallel config: tensor_parallel_size=2 pipeline_parallel_size=1 data_parallel_size=1 distributed_executor_backend=mp max_model_len=2048',
      );
      expect(log).toContain(`Uvicorn running on http://127.0.0.1:${port}`);

      // A second nerion (a new backend, same cache dir) finds it answering and starts nothing.
      const second = createVllmBackend({ model: MODEL, baseUrl, autostart: autostart(cacheDir) });
      try {
        expect((await second.probe()).facts).toMatchObject({ serverPid: pid, serverAlive: true });
        await second.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2, temperature: 0 });
        expect(second.server?.outcome).toBe('already-running');
        expect(listVllmServers(cacheDir).map((entry) => entry.pid)).toEqual([pid]);
      } finally {
        await second.close();
      }

      // close() keeps the server (keepRunning defaults to true); stopVllmServers ends it.
      await first.close();
      expect(isProcessAlive(pid)).toBe(true);
      const stopped = await stopVllmServers({ cacheDir });
      expect(stopped).toMatchObject([{ pid, port, wasRunning: true, signal: 'SIGTERM' }]);
      expect(isProcessAlive(pid)).toBe(false);
      expect(existsSync(vllmPidFile(cacheDir, port))).toBe(false);
      expect(readFileSync(vllmLogFile(cacheDir, port), 'utf8')).toContain('SIGTERM: shutting down');
    } finally {
      await first.close();
    }
  }, 120_000);

  it('two nerions starting at once end with one server: one starts it, the other reuses it while it loads', async () => {
    const cacheDir = join(temporary, 'race');
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const settings = autostart(cacheDir, { extraArgs: ['--startup-delay-ms', '1500'] });
    const outcomes = await Promise.all([
      ensureVllmServer({ baseUrl, model: MODEL, autostart: settings }),
      ensureVllmServer({ baseUrl, model: MODEL, autostart: settings }),
    ]);
    remember(cacheDir);
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(['reused', 'started']);
    expect(outcomes[0]!.pid).toBe(outcomes[1]!.pid);
    const servers = listVllmServers(cacheDir);
    expect(servers).toHaveLength(1);
    const stopped = await stopVllmServers({ cacheDir });
    expect(isProcessAlive(stopped[0]!.pid)).toBe(false);
  }, 120_000);

  it('a server that exits at start-up: SERVER_START_FAILED with the log’s last lines, no pid file, no process', async () => {
    const cacheDir = join(temporary, 'fail');
    const port = await freePort();
    const backend = createVllmBackend({
      model: MODEL,
      baseUrl: `http://127.0.0.1:${port}`,
      autostart: autostart(cacheDir, { repo: join(temporary, 'no-such-model.gguf') }),
    });
    try {
      const error = await rejection(backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }));
      expect(error.code).toBe('SERVER_START_FAILED');
      expect(error.message).toContain('exited with status 2 before it was ready');
      expect(error.message).toContain(`Last lines of ${vllmLogFile(cacheDir, port)}`);
      expect(error.message).toContain('cannot load model');
      expect(error.data.logTail).toEqual(
        expect.arrayContaining([expect.stringContaining('no-such-model.gguf does not exist')]),
      );
      expect(existsSync(vllmPidFile(cacheDir, port))).toBe(false);
      expect(isProcessAlive(error.data.pid as number)).toBe(false);
    } finally {
      await backend.close();
    }
  }, 60_000);

  it('a server that is not ready within the start timeout is stopped: SERVER_START_FAILED, pid gone', async () => {
    const cacheDir = join(temporary, 'timeout');
    const port = await freePort();
    const progress: string[] = [];
    const backend = createVllmBackend({
      model: MODEL,
      baseUrl: `http://127.0.0.1:${port}`,
      autostart: autostart(cacheDir, {
        extraArgs: ['--startup-delay-ms', '60000'],
        startTimeoutMs: 2500,
        progressIntervalMs: 500,
      }),
      progress: (line) => progress.push(line),
    });
    try {
      const error = await rejection(backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }));
      expect(error.code).toBe('SERVER_START_FAILED');
      expect(error.message).toMatch(
        /was not ready within 3 s \(last check: \/health: .*ECONNREFUSED.*\); it was stopped/,
      );
      expect(error.message).toContain('NERION_SERVER_START_TIMEOUT');
      expect(error.fix).toEqual({ settings: ['NERION_SERVER_START_TIMEOUT'] });
      expect(error.message).toContain('stand-in: loading models');
      expect(progress.some((line) => line.startsWith('Waiting for vLLM to load'))).toBe(true);
      const pid = error.data.pid as number;
      seenPids.add(pid);
      expect(isProcessAlive(pid)).toBe(false);
      expect(existsSync(vllmPidFile(cacheDir, port))).toBe(false);
    } finally {
      await backend.close();
    }
  }, 60_000);

  it('with keepRunning: false, close() stops the server this backend started', async () => {
    const cacheDir = join(temporary, 'close');
    const port = await freePort();
    const backend = createVllmBackend({
      model: MODEL,
      baseUrl: `http://127.0.0.1:${port}`,
      autostart: autostart(cacheDir, { keepRunning: false }),
    });
    await backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2, temperature: 0 });
    remember(cacheDir);
    const pid = backend.server!.pid!;
    expect(isProcessAlive(pid)).toBe(true);
    await backend.close();
    expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(vllmPidFile(cacheDir, port))).toBe(false);
  }, 60_000);

  it('a launch command that does not exist: SERVER_START_FAILED saying what to install or configure', async () => {
    const cacheDir = join(temporary, 'missing-command');
    const port = await freePort();
    const error = await rejection(
      ensureVllmServer({
        baseUrl: `http://127.0.0.1:${port}`,
        model: MODEL,
        autostart: autostart(cacheDir, { command: ['nerion-no-such-vllm-binary', 'serve'] }),
      }),
    );
    expect(error.code).toBe('SERVER_START_FAILED');
    expect(error.message).toContain('`nerion-no-such-vllm-binary`: it is not installed or not on PATH');
    expect(error.fix).toEqual({ settings: ['NERION_VLLM_COMMAND'], command: ['pip', 'install', 'vllm'] });
    expect(error.message).toContain('NERION_VLLM_COMMAND');
  });

  it('autostart refuses a base URL on another machine (BACKEND_UNREACHABLE, nothing spawned)', async () => {
    const cacheDir = join(temporary, 'remote');
    const error = await rejection(
      ensureVllmServer({
        baseUrl: 'http://192.0.2.1:8000',
        model: MODEL,
        autostart: autostart(cacheDir),
        fetch: async () => Promise.reject(new TypeError('fetch failed')),
      }),
    );
    expect(error.code).toBe('BACKEND_UNREACHABLE');
    expect(error.message).toContain('autostart only launches a server on this machine');
    expect(existsSync(join(cacheDir, 'run'))).toBe(false);
  });
});

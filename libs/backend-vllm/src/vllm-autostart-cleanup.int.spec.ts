/**
 * Autostart cleanup when the server never becomes ready, with a real process group: the launch command is a
 * never-ready vLLM stand-in (NOT vLLM) — a leader that never answers HTTP and exits on SIGTERM, plus a
 * worker in its process group that ignores SIGTERM, as vLLM's engine-core and tensor-parallel workers
 * are separate processes of the `vllm serve` group. Whether the start times out or the backend is closed
 * while waiting, no process of that group may survive and the pid file must be gone.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, rejection } from '@nerion/test-support';
import { createVllmBackend, ensureVllmServer, vllmLogFile, vllmPidFile, type VllmAutostartSettings } from './index.js';

const temporary = mkdtempSync(join(tmpdir(), 'nerion-vllm-cleanup-'));
const NEVER_READY = join(temporary, 'never-ready-vllm.mjs');
writeFileSync(
  NEVER_READY,
  `import { spawn } from 'node:child_process';
spawn(process.execPath, ['-e', "process.on('SIGTERM', () => console.log('worker: ignoring SIGTERM')); console.log('worker pid ' + process.pid + ' up'); setInterval(() => {}, 1000);"], { stdio: 'inherit' });
console.log('never-ready stand-in: loading forever');
setInterval(() => {}, 1000);
`,
);
const groups = new Set<number>();

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function autostart(cacheDir: string, overrides: Partial<VllmAutostartSettings> = {}): VllmAutostartSettings {
  return {
    repo: 'never/ready',
    cacheDir,
    command: [process.execPath, NEVER_READY],
    startTimeoutMs: 60_000,
    pollIntervalMs: 100,
    ...overrides,
  };
}

/** The worker's pid, from its line in the server log (written once it ignores SIGTERM). */
async function workerPid(logFile: string): Promise<number> {
  for (let waited = 0; waited < 30_000; waited += 50) {
    const match = existsSync(logFile) ? /worker pid (\d+) up/.exec(readFileSync(logFile, 'utf8')) : null;
    if (match) return Number(match[1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no worker pid in ${logFile}`);
}

afterAll(() => {
  // Whatever a failing test left behind.
  for (const pgid of groups) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  rmSync(temporary, { recursive: true, force: true });
});

describe('vllm autostart cleanup: a never-ready stand-in whose worker ignores SIGTERM (real process group)', () => {
  it('start timeout: SERVER_START_FAILED, and the leader, the worker and the pid file are all gone', async () => {
    const cacheDir = join(temporary, 'timeout');
    const port = await freePort();
    const error = await rejection(
      ensureVllmServer({
        baseUrl: `http://127.0.0.1:${port}`,
        model: 'never-ready',
        autostart: autostart(cacheDir, { startTimeoutMs: 1500 }),
      }),
    );
    expect(error.code).toBe('SERVER_START_FAILED');
    expect(error.message).toContain('was not ready within 2 s');
    const pid = error.data.pid as number;
    groups.add(pid);
    const worker = await workerPid(vllmLogFile(cacheDir, port));
    expect(groupAlive(pid)).toBe(false);
    expect(() => process.kill(worker, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(vllmPidFile(cacheDir, port))).toBe(false);
    expect(readFileSync(vllmLogFile(cacheDir, port), 'utf8')).toContain('worker: ignoring SIGTERM');
  }, 90_000);

  it('close() while the first generation waits for the server: the wait ends, nothing of the group survives, no pid file', async () => {
    const cacheDir = join(temporary, 'close');
    const port = await freePort();
    const backend = createVllmBackend({
      model: 'never-ready',
      baseUrl: `http://127.0.0.1:${port}`,
      autostart: autostart(cacheDir, { keepRunning: false }),
    });
    const generation = rejection(backend.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 }));
    const worker = await workerPid(vllmLogFile(cacheDir, port));
    const pid = JSON.parse(readFileSync(vllmPidFile(cacheDir, port), 'utf8')).pid as number;
    groups.add(pid);
    expect(groupAlive(pid)).toBe(true);
    await backend.close();
    const error = await generation;
    expect(error.code).toBe('ABORTED');
    expect(error.message).toContain('the server was stopped');
    expect(groupAlive(pid)).toBe(false);
    expect(() => process.kill(worker, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(vllmPidFile(cacheDir, port))).toBe(false);
    expect(readFileSync(vllmLogFile(cacheDir, port), 'utf8')).toContain('worker: ignoring SIGTERM');
  }, 90_000);
});

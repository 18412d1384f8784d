import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { NerionError, isProcessAlive, processStartTicks } from '@nerion/backend-core';
import { vllmPidFile } from './pid-file.js';
import { stopProcessGroup } from '@nerion/backend-core';
import { stopVllmServers } from './vllm-server.js';

// "Servers you started yourself are never touched" must hold against a forged or hand-written pid file.
// A real `sleep` child process stands in for "any live process that nerion did not start".
const temporary = mkdtempSync(join(tmpdir(), 'nerion-vllm-forged-'));
let victim: ChildProcess;

beforeAll(async () => {
  victim = spawn('sleep', ['300'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    victim.once('spawn', resolve);
    victim.once('error', reject);
  });
});
afterAll(() => {
  victim.kill('SIGKILL');
  rmSync(temporary, { recursive: true, force: true });
});

// Every signal nerion sends goes through process.kill; this records them, and never lets pid 1, 0 or -1
// (every process on the machine, as root), nor this test process or its parent, through even if the code
// under test tried.
const realKill = process.kill.bind(process);
let signals: Array<[number, string | number | undefined]> = [];
beforeAll(() => {
  jest.spyOn(process, 'kill').mockImplementation((pid: number, signal?: string | number) => {
    signals.push([pid, signal]);
    // Pretend: it must never get here, and the tests say so.
    if (Math.abs(pid) <= 1 || Math.abs(pid) === process.pid || Math.abs(pid) === process.ppid) return true;
    return realKill(pid, signal);
  });
});
afterEach(() => {
  signals = [];
});

function forge(name: string, fields: Record<string, unknown>): string {
  const cacheDir = join(temporary, name);
  mkdirSync(join(cacheDir, 'run'), { recursive: true });
  writeFileSync(
    vllmPidFile(cacheDir, 8100),
    JSON.stringify({
      host: '127.0.0.1',
      port: 8100,
      model: 'm',
      repo: 'r',
      argv: ['vllm', 'serve', 'r'],
      logFile: join(cacheDir, 'x.log'),
      startedAt: new Date().toISOString(),
      baseUrl: 'http://127.0.0.1:8100',
      ...fields,
    }),
  );
  return cacheDir;
}

async function refusal(cacheDir: string): Promise<NerionError> {
  let caught: unknown;
  try {
    await stopVllmServers({ cacheDir, graceMs: 0 });
  } catch (error) {
    caught = error;
  }
  expect(NerionError.isInstance(caught)).toBe(true);
  return caught as NerionError;
}

const terminating = (): Array<[number, string | number | undefined]> => signals.filter(([, signal]) => signal !== 0);

describe('models stop refuses pid files that do not name the server nerion launched (forged, with a real live `sleep`)', () => {
  it('"pid": 1 is refused before any signal (never kill(-1, …))', async () => {
    const cacheDir = forge('pid-one', { pid: 1, startTicks: 1, cmdline: ['vllm', 'serve', 'r'] });
    const error = await refusal(cacheDir);
    expect(error.code).toBe('CACHE_ERROR');
    expect(error.message).toContain('pid 1');
    expect(signals).toEqual([]);
    expect(existsSync(vllmPidFile(cacheDir, 8100))).toBe(true);
  });

  it("the caller's own pid is refused: no signal but the liveness probe", async () => {
    const cacheDir = forge('own-pid', {
      pid: process.pid,
      startTicks: processStartTicks(process.pid),
      cmdline: ['vllm'],
    });
    expect((await refusal(cacheDir)).message).toContain('this nerion');
    expect(terminating()).toEqual([]); // a liveness probe (signal 0) is all
  });

  it('a live process named without a start time is not signalled', async () => {
    const cacheDir = forge('no-start', { pid: victim.pid });
    const error = await refusal(cacheDir);
    expect(error.message).toContain('start time');
    expect(terminating()).toEqual([]);
    expect(isProcessAlive(victim.pid!)).toBe(true);
  });

  it('a live process with the right start time but another command line (or none recorded) is not signalled', async () => {
    const ticks = processStartTicks(victim.pid!);
    const wrong = forge('wrong-cmdline', { pid: victim.pid, startTicks: ticks, cmdline: ['vllm', 'serve', 'r'] });
    expect((await refusal(wrong)).message).toContain('command line');
    const none = forge('no-cmdline', { pid: victim.pid, startTicks: ticks });
    expect((await refusal(none)).message).toContain('command line');
    expect(terminating()).toEqual([]);
    expect(isProcessAlive(victim.pid!)).toBe(true);
  });

  it('stopProcessGroup itself refuses pid ≤ 1 (defence in depth)', async () => {
    for (const pid of [1, 0, -1]) {
      let caught: unknown;
      try {
        await stopProcessGroup(pid, 0);
      } catch (error) {
        caught = error;
      }
      expect(NerionError.hasCode(caught, 'INTERNAL')).toBe(true);
    }
    expect(signals).toEqual([]);
  });

  it('the same pid file with the real start time and command line is stopped (what nerion records at launch)', async () => {
    const child = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
    await new Promise<void>((resolve) => child.once('spawn', resolve));
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    const cacheDir = forge('real', { pid: child.pid, startTicks: processStartTicks(child.pid!), cmdline });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(await stopVllmServers({ cacheDir, graceMs: 3000 })).toMatchObject([
      { pid: child.pid, wasRunning: true, signal: 'SIGTERM' },
    ]);
    await exited;
    expect(existsSync(vllmPidFile(cacheDir, 8100))).toBe(false);
  });
});

/**
 * Child processes, the same way for every backend that runs one (the vLLM autostart, the exllamav2 bridge and
 * model download): the spawn function type (always argv, never a shell) and process liveness.
 */
import { execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** An injectable `spawn` (tests pass their own); called with an argument array, never a shell string. */
export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** Liveness: signal 0 reaches the process (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  // 0 and negative numbers name process groups, not a process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    throw error;
  }
  // A zombie (exited, not yet reaped) still takes signals; on Linux its state says so.
  try {
    const status = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = status.slice(status.lastIndexOf(')') + 2, status.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return process.platform !== 'linux';
    throw error;
  }
}

/** A process's start time in clock ticks since boot (Linux), or undefined where /proc does not say. */
export function processStartTicks(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Fields after the parenthesised command name; starttime is field 22 overall, the 20th after it.
  const fields = status.slice(status.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** The process's command line: /proc/<pid>/cmdline on Linux, else one string from `ps -o command=`; undefined when gone. */
export function processCommandLine(pid: number): string[] | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.endsWith('\0') ? raw.slice(0, -1).split('\0') : raw.split('\0');
  } catch (error) {
    if (process.platform === 'linux') return undefined;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const text = psField(pid, 'command');
  return text === undefined ? undefined : [text];
}

/** Where /proc has no start ticks (macOS, BSD): the start time `ps -o lstart=` prints (argv, no shell). */
export function processStartTime(pid: number): string | undefined {
  if (process.platform === 'linux') return undefined;
  return psField(pid, 'lstart');
}

function psField(pid: number, field: 'command' | 'lstart'): string | undefined {
  try {
    const text = execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

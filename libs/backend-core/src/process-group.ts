/**
 * Stopping a detached server: SIGTERM to its process group, SIGKILL after a grace period.
 */
import { NerionError } from './errors.js';
import { isProcessAlive } from './process.js';
import { sleep } from './request-lifecycle.js';

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  refuseSpecialPid(pid);
  try {
    // The server runs in its own process group (detached): signal the group so vLLM's workers go too.
    process.kill(-pid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw error;
    try {
      process.kill(pid, signal);
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code !== 'ESRCH') throw inner;
    }
  }
}

export interface StopProcessResult {
  pid: number;
  /** The signal that ended it; undefined when it was already gone. */
  signal: NodeJS.Signals | undefined;
}

/** kill(-1) signals every process the caller may signal; kill(0) or kill(-0) the caller's own group. Never. */
function refuseSpecialPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid)
    throw new NerionError('INTERNAL', `Refusing to signal pid ${pid}: it is never a server nerion started.`, {
      data: { pid },
    });
}

/**
 * True while any process of the group `pid` leads is alive: vLLM's workers (engine core, tensor-parallel
 * ranks) are in the server's group and may outlive the `vllm serve` leader. The group id stays taken while a
 * member lives, so this never reaches an unrelated process.
 */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGTERM to the process group, then SIGKILL to the group after `graceMs`; resolves once the leader and
 * every other member of its group are gone (a worker that ignores SIGTERM, or outlives its leader, is killed
 * too, never left orphaned).
 */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<StopProcessResult> {
  refuseSpecialPid(pid);
  const anyAlive = (): boolean => isProcessAlive(pid) || groupAlive(pid);
  if (!anyAlive()) return { pid, signal: undefined };
  signalGroup(pid, 'SIGTERM');
  const termDeadline = performance.now() + graceMs;
  while (performance.now() < termDeadline) {
    await sleep(50);
    if (!anyAlive()) return { pid, signal: 'SIGTERM' };
  }
  signalGroup(pid, 'SIGKILL');
  const killDeadline = performance.now() + 5000;
  while (performance.now() < killDeadline) {
    await sleep(50);
    if (!anyAlive()) return { pid, signal: 'SIGKILL' };
  }
  throw new NerionError('INTERNAL', `Process ${pid} survived SIGKILL for 5 s; stop it by hand (kill -9 ${pid}).`, {
    data: { pid },
    fix: { command: ['kill', '-9', String(pid)] },
  });
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `nerion` binary as a real child process (no shell), with a clean nerion environment:
 * only PATH/HOME and the variables given, so the developer's own NERION_* settings never leak in.
 */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CI: 'true', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run = collectOutput(child, options.timeoutMs);
  child.stdin.end(options.input ?? '');
  return run;
}

/** What a child prints on stdout and stderr until it closes; SIGKILL after `timeoutMs` (default 60 s). */
export function collectOutput(child: ChildProcessWithoutNullStreams, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

import { spawn } from 'node:child_process';
import { CLI_BIN, collectOutput, type CliRun } from './run-cli.js';
import { shellJoin } from '@nerion/backend-core';

/**
 * Runs the built `nerion` under a real pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs
 * as for a person at a terminal. What the terminal showed (stdout and stderr merged, as on a screen) is
 * `stdout`; `input` is typed into the terminal. CI is unset (nerion treats CI=true as non-interactive).
 */
export function runCliInTerminal(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  // script runs its -c command through a shell: the argv is quoted word by word (test-owned values only).
  const command = shellJoin([process.execPath, CLI_BIN, ...args]);
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TERM: 'xterm',
      COLUMNS: '160',
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run = collectOutput(child, options.timeoutMs);
  if (options.input !== undefined) setTimeout(() => child.stdin.write(options.input), 1500);
  else child.stdin.end();
  return run.then((result) => ({ ...result, stdout: result.stdout.replace(/\r\n/g, '\n') }));
}

/** What remains on screen after carriage returns and line erases (the progress line overwritten in place). */
export function screenLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => {
      const erased = line.split('\u001b[2K').at(-1) ?? '';
      // eslint-disable-next-line no-control-regex -- colour codes start with ESC
      return (erased.split('\r').at(-1) ?? '').replace(/\u001b\[[0-9;]*m/g, '');
    })
    .filter((line) => line.length > 0);
}

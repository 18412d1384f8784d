import { spawn } from 'node:child_process';
import { shellJoin } from '@nerion/backend-core';
import { CLI_BIN } from './run-cli.js';

export interface PtyRun {
  status: number | null;
  /** Everything the terminal showed (stdout and stderr share the pseudo-terminal), escape codes included. */
  screen: string;
}

/**
 * Runs the built `nerion` under a real pseudo-terminal (util-linux `script -q -c … /dev/null`), so it sees
 * a TTY on stdin, stdout and stderr as a person's terminal. `answers` are typed once `prompt` appears.
 * The command line is built here from the test's own argv (quoted word by word by `shellJoin`), never from input.
 */
export function runInPty(
  args: readonly string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    answer?: { prompt: string; text: string };
    timeoutMs?: number;
  } = {},
): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    const command = shellJoin([process.execPath, CLI_BIN, ...args]);
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let answered = false;
    const onData = (chunk: Buffer): void => {
      screen += chunk.toString();
      if (options.answer && !answered && screen.includes(options.answer.prompt)) {
        answered = true;
        child.stdin.write(options.answer.text);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, screen });
    });
  });
}

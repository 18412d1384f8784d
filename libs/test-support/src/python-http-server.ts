import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { freePort } from './net-helpers.js';

export interface PythonHttpServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  process: ChildProcess;
  close(): Promise<void>;
}

/**
 * `python3 -m http.server --bind 127.0.0.1 <port>` serving `directory`, as a real child process: an HTTP/1.0
 * server that closes the connection after every response (the shape that crashed undici 7's HTTP/1
 * parser, undici issue 5360). Resolves once it answers.
 */
export async function startPythonHttpServer(directory: string): Promise<PythonHttpServer> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port)], {
    cwd: directory,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`python3 -m http.server exited: ${stderr}`);
    const answered = await new Promise<boolean>((resolve) => {
      const probe = request(`${url}/`, { method: 'HEAD' }, (response) => {
        response.resume();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
      probe.end();
    });
    if (answered) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`python3 -m http.server did not answer on ${url} within 15 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    process: child,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

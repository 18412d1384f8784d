import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StreamClientOptions {
  /** A built backend package's entry (`file://…/dist/index.js`). */
  module: string;
  /** The factory it exports, e.g. `createOllamaBackend`. */
  factory: string;
  /** Its settings (JSON). */
  settings: Record<string, unknown>;
  /** A module whose `fetch` export the backend gets instead of the global fetch (e.g. undici's entry). */
  fetchModule?: string;
}

export interface StreamClientOutcome {
  /** The child's exit status (null when a signal ended it). */
  status: number | null;
  stderr: string;
  /** What the child reported: the finish reason and characters read, a NerionError's code and message, or an uncaught error. */
  report: { finishReason?: string; chars?: number; code?: string; message?: string; uncaught?: string } | undefined;
}

const SCRIPT = `
const [moduleUrl, factory, settingsJson, fetchModule] = process.argv.slice(2);
const report = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
process.on('uncaughtException', (error) => { report({ uncaught: String(error && error.stack || error) }); process.exit(70); });
process.on('unhandledRejection', (error) => { report({ uncaught: 'unhandled rejection: ' + String(error && error.stack || error) }); process.exit(71); });
const settings = JSON.parse(settingsJson);
if (fetchModule) settings.fetch = (await import(fetchModule)).fetch;
const backend = (await import(moduleUrl))[factory](settings);
let chars = 0;
let nextPause = 0;
try {
  for await (const part of backend.stream({ prompt: 'hi', maxTokens: 100000 })) {
    if (part.type === 'text-delta') {
      chars += part.text.length;
      // A slow reader: the first pause lets the whole burst arrive, later ones keep the body paused.
      if (chars >= nextPause) { await new Promise((resolve) => setTimeout(resolve, nextPause === 0 ? 300 : 2)); nextPause = chars + 20000; }
    }
    if (part.type === 'finish') report({ finishReason: part.result.finishReason, chars });
  }
} catch (error) {
  report({ code: error.code, message: error.message, chars });
}
await backend.close();
`;

/**
 * Streams one generation through a built backend in a real child process with a slow reader, and reports
 * how it ended: a process-killing error inside the HTTP client (undici 5360's uncatchable assertion) shows
 * up as `uncaught` and a non-zero status instead of taking the test runner down.
 */
export async function runStreamClient(options: StreamClientOptions): Promise<StreamClientOutcome> {
  const directory = await mkdtemp(join(tmpdir(), 'nerion-stream-client-'));
  try {
    const script = join(directory, 'client.mjs');
    await writeFile(script, SCRIPT);
    const child = spawn(
      process.execPath,
      [script, options.module, options.factory, JSON.stringify(options.settings), options.fetchModule ?? ''],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const line = stdout.trim().split('\n').at(-1);
    return { status, stderr, report: line ? (JSON.parse(line) as StreamClientOutcome['report']) : undefined };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

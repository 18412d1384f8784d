/**
 * Text a server controls never reaches the terminal raw (issue #12 case 7): escape sequences (ANSI colours,
 * OSC title/hyperlink, BEL, C1 CSI) are shown escaped, and a huge body is cut (at a word boundary, with its
 * size). A raw HTTP server on 127.0.0.1 plays a hostile Ollama (the real engine cannot be installed here) and
 * a hostile OpenAI-compatible server (vLLM); the built binary runs as a real child process.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { runCli } from './run-cli.js';

jest.setTimeout(120_000);

const HOSTILE =
  '\u001b]0;owned\u0007\u001b[31mred\u001b[0m \u009b2J \u001b]8;;http://evil.example\u001b\\click\u001b]8;;\u001b\\ done';
const GARBAGE = `${'garbage 1234567890 '.repeat(550_000)}`; // ~10 MB
let behaviour: (request: IncomingMessage, response: ServerResponse) => void;
let server: Server;
let baseUrl: string;
const folders: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => behaviour(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function repo(): string {
  const folder = mkdtempSync(join(tmpdir(), 'nerion-server-text-'));
  folders.push(folder);
  spawnSync('git', ['init', '-q'], { cwd: folder });
  mkdirSync(join(folder, 'src'));
  writeFileSync(join(folder, 'src', 'text.ts'), 'export const a = 1;\n');
  return folder;
}

/** An Ollama that answers its version and tags, then `reply` for the chat. */
function hostileOllama(reply: (response: ServerResponse) => void) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/api/version') return json(200, { version: '0.6.5' });
    if (request.url === '/api/tags')
      return json(200, { models: [{ name: 'coder:latest', model: 'coder:latest', size: 1, digest: 'd' }] });
    if (request.url === '/api/show') return json(200, { model_info: {}, capabilities: ['completion'] });
    return reply(response);
  };
}

/* eslint-disable no-control-regex -- asserting that no control character is left */
function expectTerminalSafe(stderr: string): void {
  expect(stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u); // no raw control characters
  expect(stderr.length).toBeLessThan(20_000);
}
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
/* eslint-enable no-control-regex */

const ollamaEnv = () => ({
  NERION_CODER_BACKEND: 'ollama',
  NERION_CODER_MODEL: 'coder',
  NERION_CODER_BASE_URL: baseUrl,
  NERION_LLM_STRICT: '1',
});
const args = ['plan', '-i', 'add a function slugify to src/text.ts', '--llm', '--no-cache'];

describe('server-controlled text on the terminal (hostile local servers on 127.0.0.1)', () => {
  it('Ollama stand-in: an error status whose message carries escape sequences and 10 MB of garbage', async () => {
    behaviour = hostileOllama((response) => {
      const body = JSON.stringify({ error: `${HOSTILE} ${GARBAGE}` });
      response.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
    const run = await runCli(args, { env: ollamaEnv(), cwd: repo() });
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Error [BACKEND_ERROR]');
    expectTerminalSafe(run.stderr);
    expect(run.stderr).toContain('\\x1b]0;owned\\x07\\x1b[31mred');
    expect(run.stderr).toMatch(/ (?:garbage|1234567890)… \(cut: 10\.\d MB in all\)/u); // between words
  });

  it('Ollama stand-in: an {"error"} line inside the NDJSON stream carrying escape sequences', async () => {
    behaviour = hostileOllama((response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(
        `${JSON.stringify({ model: 'coder', message: { role: 'assistant', content: '{' }, done: false })}\n`,
      );
      response.end(`${JSON.stringify({ error: HOSTILE })}\n`);
    });
    const run = await runCli(args, { env: ollamaEnv(), cwd: repo() });
    expect(run.stdout).toBe('');
    expectTerminalSafe(run.stderr);
    expect(run.stderr).toContain('\\x1b[31mred');
  });

  it('not strict: the fallback warning and metadata.fallback_reason are bounded and escaped too', async () => {
    behaviour = hostileOllama((response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `${HOSTILE} ${GARBAGE}` }));
    });
    const { NERION_LLM_STRICT: _strict, ...env } = ollamaEnv();
    const run = await runCli(args, { env, cwd: repo() });
    expect(run.status).toBe(0);
    expectTerminalSafe(run.stderr);
    const plan = JSON.parse(run.stdout) as { metadata: { fallback_reason: string } };
    expect(plan.metadata.fallback_reason).not.toMatch(CONTROL);
    expect(plan.metadata.fallback_reason).toContain('\\x1b]0;owned');
  });

  it('OpenAI-compatible (vLLM) stand-in: an error body with escape sequences and 10 MB of garbage', async () => {
    behaviour = (request, response) => {
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/v1/models') return json(200, { object: 'list', data: [{ id: 'coder', object: 'model' }] });
      if (request.url === '/version') return json(200, { version: '0.6.0' });
      return json(500, { error: { message: `${HOSTILE} ${GARBAGE}`, type: 'server_error' } });
    };
    const env = {
      NERION_CODER_BACKEND: 'vllm',
      NERION_CODER_MODEL: 'coder',
      NERION_CODER_BASE_URL: baseUrl,
      NERION_LLM_STRICT: '1',
    };
    const run = await runCli(args, { env, cwd: repo() });
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Error \[[A-Z_]+\]/u);
    expectTerminalSafe(run.stderr);
    expect(run.stderr).toContain('\\x1b[31mred');
  });

  it('Ollama stand-in: pull progress records (NDJSON status lines) carrying escape sequences', async () => {
    behaviour = (request, response) => {
      if (request.url === '/api/version') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(JSON.stringify({ version: '0.6.5' }));
      }
      if (request.url === '/api/tags') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(JSON.stringify({ models: [] }));
      }
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(`${JSON.stringify({ status: `${HOSTILE} pulling manifest` })}\n`);
      response.end(`${JSON.stringify({ status: 'success' })}\n`);
    };
    const run = await runCli(['models', 'ensure', '--backend', 'ollama', '--model', 'coder', '--yes'], {
      env: { NERION_CODER_BACKEND: 'ollama', NERION_CODER_BASE_URL: baseUrl },
    });
    expect(run.stderr).toContain('ollama: \\x1b]0;owned');
    expectTerminalSafe(run.stderr);
    expect(run.status).toBe(0);
  });
});

describe('a huge error body without a length', () => {
  it('Ollama stand-in: a chunked 10 MB error body is read only in part and said to be "more than" its start', async () => {
    behaviour = hostileOllama((response) => {
      response.writeHead(500, { 'content-type': 'text/html' });
      for (let index = 0; index < 10; index += 1) response.write(GARBAGE.slice(0, 1_000_000));
      response.end();
    });
    const run = await runCli(args, { env: ollamaEnv(), cwd: repo() });
    expectTerminalSafe(run.stderr);
    expect(run.stderr).toMatch(/ (?:garbage|1234567890)… \(cut: more than 65\.5 KB in all\)/u);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closedPort, startLocalFileServer, type LocalFileServer } from '@nerion/test-support';
import { runCli } from './run-cli.js';

// Credentials in URLs must never be printed: not on stderr, not in doctor (text or --json), not in a plan.
const SECRET = 'hunter2-secret';
let server: LocalFileServer;
beforeAll(async () => {
  server = await startLocalFileServer({
    files: {},
    failures: { '/model.gguf': { status: 404, body: 'no' } },
  });
});
afterAll(async () => {
  await server.close();
});

function noSecret(...texts: string[]): void {
  for (const text of texts) expect(text).not.toContain(SECRET);
}

describe('credentials in URLs', () => {
  it('NERION_CODER_BASE_URL with user:password@ is CONFIG_INVALID (exit 2) without echoing the password', async () => {
    const port = await closedPort();
    const env = { NERION_CODER_BACKEND: 'ollama', NERION_CODER_BASE_URL: `http://user:${SECRET}@127.0.0.1:${port}` };
    const doctor = await runCli(['doctor'], { env });
    const doctorJson = await runCli(['doctor', '--json'], { env });
    const cwd = mkdtempSync(join(tmpdir(), 'nerion-secret-plan-'));
    const plan = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--llm', '--no-cache'], {
      env,
      cwd,
    });
    noSecret(doctor.stdout, doctor.stderr, doctorJson.stdout, doctorJson.stderr, plan.stdout, plan.stderr);
    for (const run of [doctor, plan]) {
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('CONFIG_INVALID');
      expect(run.stderr).toContain('user name or password');
      expect(run.stderr).toContain('NERION_CODER_BASE_URL');
    }
    expect(JSON.parse(doctorJson.stdout).error).toMatchObject({ code: 'CONFIG_INVALID' });
  }, 60_000);

  // The base URL is reduced to its server root (scheme, host, port, path), so a query never reaches a message.
  it('a ?token= in the base URL never reaches the plan fallback reason, stderr, or doctor text and --json', async () => {
    const port = await closedPort();
    const env = { NERION_CODER_BACKEND: 'ollama', NERION_CODER_BASE_URL: `http://127.0.0.1:${port}/?token=${SECRET}` };
    const cwd = mkdtempSync(join(tmpdir(), 'nerion-secret-plan-'));
    writeFileSync(join(cwd, 'x.py'), 'x = 1\n');
    const plan = await runCli(['plan', '-i', 'rename x to y in x.py', '-f', 'x.py', '--llm', '--no-cache'], {
      env,
      cwd,
    });
    expect(plan.status).toBe(0);
    const reason = JSON.parse(plan.stdout).metadata.fallback_reason as string;
    expect(reason).toContain(`127.0.0.1:${port}`);
    const doctor = await runCli(['doctor'], { env });
    const doctorJson = await runCli(['doctor', '--json'], { env });
    expect(doctor.stdout + doctor.stderr).toContain(`127.0.0.1:${port}`);
    noSecret(plan.stdout, plan.stderr, doctor.stdout, doctor.stderr, doctorJson.stdout, doctorJson.stderr);
  }, 60_000);

  it('LLAMA_CPP_MODEL_URL with ?token= is redacted by ensure: the consent error, the download error, text and --json', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-secret-cache-'));
    const env = {
      NERION_CACHE_DIR: cacheDir,
      NERION_CODER_BACKEND: 'llama_cpp',
      NERION_CODER_MODEL: 'tiny',
      LLAMA_CPP_MODEL_URL: `${server.url}/model.gguf?token=${SECRET}&download=true`,
    };
    const consent = await runCli(['models', 'ensure'], { env });
    const consentJson = await runCli(['models', 'ensure', '--json'], { env });
    const failed = await runCli(['models', 'ensure', '--yes'], { env });
    const failedJson = await runCli(['models', 'ensure', '--yes', '--json'], { env });
    const doctor = await runCli(['doctor', '--json'], { env });
    expect(consent.status).toBe(4);
    expect(failed.status).toBe(7);
    expect(failed.stderr).toContain('model.gguf?token=***&download=***');
    // The request itself carried the real token.
    expect(server.requests.at(-1)?.url).toContain(`token=${SECRET}`);
    noSecret(
      consent.stdout,
      consent.stderr,
      consentJson.stdout,
      failed.stdout,
      failed.stderr,
      failedJson.stdout,
      doctor.stdout,
      doctor.stderr,
    );
  }, 60_000);

  it('LLAMA_CPP_MODEL_URL with user:password@ is CONFIG_INVALID without the password', async () => {
    const env = {
      NERION_CODER_BACKEND: 'llama_cpp',
      LLAMA_CPP_MODEL_URL: `http://me:${SECRET}@127.0.0.1:1/model.gguf`,
    };
    const result = await runCli(['models', 'ensure', '--yes', '--json'], { env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    noSecret(result.stdout, result.stderr);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, fixturePaths } from '@nerion/test-support';
import { runCli } from './run-cli.js';

interface DoctorJson {
  backend: string;
  model: string;
  backends: {
    backend: string;
    selected: boolean;
    usable: boolean;
    checks: { check: string; ok: boolean | null; detail: string; fix?: string }[];
  }[];
}

/** `nerion doctor` through the built binary: real llama.cpp on the generated GGUF, other backends down. */
describe('nerion doctor (built binary; real llama.cpp on the tiny GGUF fixture, other backends down)', () => {
  let home: string;
  let down: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-doctor-'));
    down = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string>): Record<string, string> => ({
    HOME: home,
    NERION_CACHE_DIR: join(home, 'cache'),
    NERION_PYTHON: join(home, 'no-python'),
    ...extra,
  });

  it('a usable selected backend: every check passes, exit 0, and the other backends say what fixes them', async () => {
    const run = await runCli(['doctor', '--json'], {
      env: env({
        NERION_CODER_BACKEND: 'llama_cpp',
        NERION_CODER_MODEL: 'qwen2.5-coder',
        LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama,
        NERION_LLAMA_THREADS: '1',
        // The same binaries here and in CI, whether or not `doctor --build-llama` made a build on this machine.
        NERION_LLAMA_BUILD: 'prebuilt',
      }),
      timeoutMs: 120_000,
    });
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorJson;
    expect(report).toMatchObject({ backend: 'llama_cpp', model: 'qwen2.5-coder' });
    const llama = report.backends.find((backend) => backend.backend === 'llama_cpp')!;
    expect(llama.selected).toBe(true);
    expect(llama.checks.map((check) => [check.check, check.ok])).toEqual([
      ['configured', true],
      ['reachable', true],
      ['model', true],
      ['strict_json', true],
      ['threads', true],
      ['llama_build', true],
    ]);
    expect(llama.checks.find((check) => check.check === 'llama_build')?.detail).toBe(
      'node-llama-cpp prebuilt binaries (NERION_LLAMA_BUILD=prebuilt)',
    );
    expect(llama.checks.find((check) => check.check === 'strict_json')?.detail).toMatch(/^constrained decoding: \{/);
    expect(llama.checks.find((check) => check.check === 'threads')?.detail).toBe('1 thread (NERION_LLAMA_THREADS)');
    const ollama = report.backends.find((backend) => backend.backend === 'ollama')!;
    expect(ollama.usable).toBe(false);
    expect(ollama.checks.find((check) => check.ok === false)?.fix).toContain('ollama serve');
    for (const backend of report.backends.filter((entry) => !entry.usable)) {
      const failed = backend.checks.find((check) => check.ok === false)!;
      expect(failed.fix?.length ?? 0).toBeGreaterThan(10);
      expect(backend.checks.slice(backend.checks.indexOf(failed) + 1).every((check) => check.ok === null)).toBe(true);
    }
  }, 130_000);

  it('llama_cpp thread counts: measured on the first run and cached under NERION_CACHE_DIR; the next run says when', async () => {
    const settings = env({
      NERION_CODER_BACKEND: 'llama_cpp',
      NERION_CODER_MODEL: 'qwen2.5-coder',
      LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama,
    });
    const threadsDetail = async (): Promise<string> => {
      const run = await runCli(['doctor', '--json'], { env: settings, timeoutMs: 120_000 });
      expect(run.status).toBe(0);
      const report = JSON.parse(run.stdout) as DoctorJson;
      const llama = report.backends.find((backend) => backend.backend === 'llama_cpp')!;
      return llama.checks.find((check) => check.check === 'threads')!.detail;
    };
    const cacheFile = join(home, 'cache', 'llama-threads.json');
    const first = await threadsDetail();
    expect(first).toMatch(
      /^(decode \d+, prompt \d+ threads|\d+ threads?) \(measured just now, load [\d.]+; cached in /,
    );
    expect(first).toContain(cacheFile);
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as { entries: Record<string, { loadAverage: number }> };
    for (const entry of Object.values(cache.entries)) entry.loadAverage = 0; // as if measured on a quiet machine
    await writeFile(cacheFile, JSON.stringify(cache));
    const second = await threadsDetail();
    expect(second).toMatch(/threads? \(measured \d{4}-\d\d-\d\d \d\d:\d\d UTC, load 0\.0; cached in /);
    expect(second).toContain('NERION_LLAMA_THREADS overrides');
  }, 260_000);

  it('an unusable selected backend: exit 3, the failing check and its fix on stderr; the human report on stdout', async () => {
    const run = await runCli(['doctor'], {
      env: env({ NERION_CODER_BACKEND: 'ollama', NERION_CODER_BASE_URL: down }),
      timeoutMs: 60_000,
    });
    expect(run.status).toBe(3);
    expect(run.stdout).toMatch(/^ollama \(selected\) — deepseek-coder-v2: not usable$/m);
    expect(run.stdout).toMatch(/^ {2}FAIL reachable {3}Ollama is not answering at http:\/\/127\.0\.0\.1:\d+/m);
    // The start command listens on the endpoint nerion looks at (Ollama reads OLLAMA_HOST).
    const start = `env OLLAMA_HOST=127.0.0.1:${new URL(down).port} ollama serve`;
    expect(run.stdout).toContain(
      `       fix: ${start}   # or point NERION_OLLAMA_BASE_URL at your Ollama (now ${down})`,
    );
    expect(run.stderr).toContain('Error [NOT_AVAILABLE]: The selected backend ollama is not usable: reachable:');
    expect(run.stderr).toContain(`Fix: ${start}`);
  }, 70_000);

  it('llama_cpp with no file: "configured" fails with the ensure command', async () => {
    const run = await runCli(['doctor', '--json', '--backend', 'llama_cpp', '--model', 'codellama'], {
      env: env({}),
      timeoutMs: 60_000,
    });
    expect(run.status).toBe(3);
    const llama = (JSON.parse(run.stdout) as DoctorJson).backends.find((backend) => backend.backend === 'llama_cpp')!;
    expect(llama.checks[0]).toMatchObject({ check: 'configured', ok: false });
    expect(llama.checks[0]!.detail).toContain('No GGUF file of codellama is provisioned');
    expect(llama.checks[0]!.fix).toContain('nerion models ensure --backend llama_cpp --model codellama --yes');
  }, 70_000);
});

import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, fixturePaths } from '@nerion/test-support';
import { oneLine } from '../src/doctor-checks.js';
import { runCli } from './run-cli.js';

const home = mkdtempSync(join(tmpdir(), 'nerion-doctor-details-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const base = { HOME: home, NERION_CACHE_DIR: join(home, 'cache'), NERION_PYTHON: join(home, 'no-python') };

interface DoctorJson {
  settings: { name: string; value: unknown; source: string }[];
  backends: {
    backend: string;
    checks: { check: string; ok: boolean | null; detail: string; fix?: string }[];
    facts?: Record<string, unknown>;
  }[];
}

describe('doctor shows what docs/local-models.md promises (built binary; real llama.cpp on the tiny GGUF, vLLM down)', () => {
  it('llama_cpp: device, file and size, architecture, trained context and threads; --json: each setting with its value and source', async () => {
    const gguf = fixturePaths().tinyLlama;
    const env = { ...base, NERION_CODER_BACKEND: 'llama_cpp', LLAMA_CPP_MODEL_PATH: gguf, NERION_LLAMA_THREADS: '1' };
    const text = await runCli(['doctor', '--model', 'qwen2.5-coder', '--timeout', '60'], { env, timeoutMs: 120_000 });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^ {7}device cpu · file ${gguf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(157 KB\\) · architecture llama · trained context 2048 · threads 1 \\(settings\\)$`,
        'm',
      ),
    );
    // The strict-JSON line is one line, however the model spread its JSON.
    const strict = text.stdout.split('\n').filter((line) => line.includes('strict_json'));
    expect(strict.find((line) => line.includes('llama_cpp') || line.includes('constrained'))).toMatch(
      /^ {2}ok {3}strict_json constrained decoding: \{.*\}$/,
    );

    const json = JSON.parse(
      (await runCli(['doctor', '--json', '--model', 'qwen2.5-coder', '--timeout', '60'], { env, timeoutMs: 120_000 }))
        .stdout,
    ) as DoctorJson;
    const setting = (name: string) => json.settings.find((entry) => entry.name === name);
    expect(setting('NERION_CODER_BACKEND')).toEqual({
      name: 'NERION_CODER_BACKEND',
      value: 'llama_cpp',
      source: 'env',
    });
    expect(setting('NERION_CODER_MODEL')).toEqual({
      name: 'NERION_CODER_MODEL',
      value: 'qwen2.5-coder',
      source: 'flag',
    });
    expect(setting('LLAMA_CPP_MODEL_PATH')).toEqual({ name: 'LLAMA_CPP_MODEL_PATH', value: gguf, source: 'env' });
    expect(setting('NERION_CODER_BASE_URL')).toEqual({ name: 'NERION_CODER_BASE_URL', value: null, source: 'default' });
    expect(setting('NERION_CACHE_DIR')).toMatchObject({ value: join(home, 'cache'), source: 'env' });
    expect(json.backends.find((entry) => entry.backend === 'llama_cpp')!.facts).toMatchObject({
      device: 'cpu',
      file: gguf,
      architecture: 'llama',
      contextLength: 2048,
      threads: 1,
      threadsSource: 'settings',
    });
  }, 240_000);

  it('the vLLM fix uses the configured port and the catalog repository, and offers NERION_AUTOSTART_VLLM=1 only when it is not set', async () => {
    const port = await closedPort();
    const env = {
      ...base,
      NERION_CODER_BACKEND: 'vllm',
      NERION_CODER_MODEL: 'codellama',
      NERION_CODER_BASE_URL: `http://127.0.0.1:${port}`,
    };
    const vllmFix = (report: DoctorJson) =>
      report.backends.find((entry) => entry.backend === 'vllm')!.checks.find((check) => check.check === 'reachable')!
        .fix!;
    const off = vllmFix(JSON.parse((await runCli(['doctor', '--json'], { env })).stdout) as DoctorJson);
    expect(off).toBe(
      `vllm serve codellama/CodeLlama-7b-Instruct-hf --served-model-name codellama --host 127.0.0.1 --port ${port}   # or: export NERION_AUTOSTART_VLLM=1`,
    );
    const on = vllmFix(
      JSON.parse(
        (
          await runCli(['doctor', '--json'], {
            env: { ...env, NERION_AUTOSTART_VLLM: '1', NERION_VLLM_COMMAND: '/bin/false' },
          })
        ).stdout,
      ) as DoctorJson,
    );
    expect(on).toContain(`--port ${port}`);
    expect(on).not.toContain('export NERION_AUTOSTART_VLLM=1');
    expect(on).toContain('NERION_AUTOSTART_VLLM=1 is set');
  });

  it('oneLine keeps JSON a model printed over several lines on one line, cut with an ellipsis', () => {
    expect(oneLine('{\n  "ok": true\n}\n', 60)).toBe('{ "ok": true }');
    expect(oneLine('x'.repeat(80), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

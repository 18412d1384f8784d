import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'nerion-finding-'));
const env = { NERION_CACHE_DIR: cacheDir, XDG_CONFIG_HOME: cacheDir, XDG_CACHE_HOME: cacheDir };
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('finding your way (built binary, real child process)', () => {
  it('a mistyped command gets the nearest command: `nerion doctr` → `nerion doctor`, exit 127', async () => {
    const result = await runCli(['doctr'], { env });
    expect(result.status).toBe(127);
    expect(result.stderr).toContain('Error [UNKNOWN_COMMAND]: "nerion doctr" is not a nerion command.');
    expect(result.stderr).toContain('Did you mean `nerion doctor`?');
    expect(result.stdout).toBe('');
  });

  it('a mistyped subcommand gets the topic\'s nearest (`models lst` → `models list`), and {"error"} on stdout under --json', async () => {
    const result = await runCli(['models', 'lst', '--json'], { env });
    expect(result.status).toBe(127);
    const json = JSON.parse(result.stdout) as {
      error: { code: string; data: { suggestions: string[] }; fix: { command: string[] } };
    };
    expect(json.error.code).toBe('UNKNOWN_COMMAND');
    expect(json.error.data.suggestions[0]).toBe('nerion models list');
    expect(json.error.fix.command).toEqual(['nerion', 'models', 'list', '--json']);
    expect(result.stderr).toContain('Run `nerion help models`');
  });

  it('nothing near: no guess, only where the list is', async () => {
    const result = await runCli(['xyzzy'], { env });
    expect(result.status).toBe(127);
    expect(result.stderr).not.toContain('Did you mean');
    expect(result.stderr).toContain('Run `nerion help` for the list of commands.');
  });

  it('`nerion help plan` and `nerion plan -h` print the plan help', async () => {
    for (const args of [
      ['help', 'plan'],
      ['plan', '-h'],
    ]) {
      const result = await runCli(args, { env });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('$ nerion plan');
      expect(result.stdout).toContain('-i <value>');
      expect(result.stdout).toContain('--instruction');
    }
  });

  it('`nerion autocomplete script bash` prints a bash completion setup naming nerion', async () => {
    const result = await runCli(['autocomplete', 'script', 'bash'], { env, timeoutMs: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('NERION_AC_BASH_SETUP_PATH');
  });

  it("an unknown model name gets the catalog's nearest name in `models ensure` (exit 2, suggestion and fix as data)", async () => {
    const result = await runCli(['models', 'ensure', '--backend', 'llama_cpp', '--model', 'qwen', '--json'], { env });
    expect(result.status).toBe(2);
    const json = JSON.parse(result.stdout) as {
      error: { code: string; data: { suggestions: string[] }; fix: { command: string[] } };
    };
    expect(json.error.code).toBe('UNKNOWN_MODEL');
    expect(json.error.data.suggestions).toEqual(['qwen2.5-coder']);
    expect(json.error.fix.command).toEqual([
      'nerion',
      'models',
      'ensure',
      '--backend',
      'llama_cpp',
      '--model',
      'qwen2.5-coder',
    ]);
  });

  it('`bench --backends llama_cpp --models qwen` no longer advises `models ensure … --model qwen`: the n/a reason names qwen2.5-coder', async () => {
    const result = await runCli(['models', 'bench', '--backends', 'llama_cpp', '--models', 'qwen', '--runs', '1'], {
      env,
    });
    expect(result.stderr).not.toContain('--model qwen`');
    expect(result.stderr).toContain('Did you mean "qwen2.5-coder"?');
    expect(result.stdout).toMatch(/llama_cpp\tqwen\tn\/a/);
  });

  it('doctor with an unknown model name: the llama_cpp fix is `ensure` of the nearest catalog name, not of the typo', async () => {
    const result = await runCli(['doctor', '--backend', 'llama_cpp', '--model', 'qwen', '--json'], {
      env: { ...env, NERION_PYTHON: join(cacheDir, 'no-python') },
      timeoutMs: 120_000,
    });
    const report = JSON.parse(result.stdout) as {
      backends: { backend: string; checks: { check: string; ok: boolean | null; fix?: string }[] }[];
    };
    const configured = report.backends
      .find((entry) => entry.backend === 'llama_cpp')!
      .checks.find((check) => check.check === 'configured')!;
    expect(configured.ok).toBe(false);
    expect(configured.fix).toBe('nerion models ensure --backend llama_cpp --model qwen2.5-coder');
  }, 180_000);
});

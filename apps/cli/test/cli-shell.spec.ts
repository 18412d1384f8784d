import { describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

describe('nerion CLI shell (built binary, real child process)', () => {
  it('--help lists the plan, doctor and models topics', async () => {
    const result = await runCli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\bplan\b/);
    expect(result.stdout).toMatch(/\bdoctor\b/);
    expect(result.stdout).toMatch(/\bmodels\b/);
  });

  it('models --help lists list, ensure and bench', async () => {
    const result = await runCli(['models', '--help']);
    expect(result.status).toBe(0);
    for (const command of ['models list', 'models ensure', 'models bench']) expect(result.stdout).toContain(command);
  });

  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/@nerion\/cli\/\d+\.\d+\.\d+/);
  });

  it('a config error exits 2 with the variable and the fix on stderr, and JSON on stdout with --json', async () => {
    const result = await runCli(['doctor', '--json'], { env: { NERION_LLM_STRICT: 'maybe' } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Error [CONFIG_INVALID]');
    expect(result.stderr).toContain('NERION_LLM_STRICT');
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'CONFIG_INVALID', exitStatus: 2 } });
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

const home = mkdtempSync(join(tmpdir(), 'nerion-json-'));
const env = { HOME: home, NERION_CACHE_DIR: join(home, 'cache'), XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home };
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** nerion's own commands, from the manifest the build writes (oclif's help/autocomplete plugins excluded). */
const manifest = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'oclif.manifest.json'), 'utf8'),
) as { commands: Record<string, { flags: Record<string, unknown> }> };
const commands = Object.keys(manifest.commands).map((id) => id.split(':'));

interface ErrorDocument {
  error: { code: string; message: string; exitStatus: number; fix?: { command?: string[] } };
}

describe('--json everywhere (built binary, real child process)', () => {
  it('every nerion command accepts --json', () => {
    expect(commands.length).toBeGreaterThanOrEqual(9);
    for (const [id, command] of Object.entries(manifest.commands))
      expect([id, 'json' in command.flags]).toEqual([id, true]);
  });

  it.each(commands.map((argv) => [argv.join(' '), argv]))(
    '`nerion %s --json --no-such-flag`: oclif\'s flag error is one {"error"} document on stdout, exit 2',
    async (_name, argv) => {
      const result = await runCli([...(argv as string[]), '--json', '--no-such-flag'], { env });
      expect(result.status).toBe(2);
      const document = JSON.parse(result.stdout) as ErrorDocument;
      expect(document.error).toMatchObject({ code: 'INVALID_REQUEST', exitStatus: 2 });
      expect(document.error.message).toContain('Nonexistent flag: --no-such-flag');
      expect(document.error.fix?.command).toEqual(['nerion', ...(argv as string[]), '--help']);
      expect(result.stderr).toContain('Error [INVALID_REQUEST]: Nonexistent flag: --no-such-flag');
    },
  );

  it("without --json a flag error prints nothing on stdout (oclif's message and usage on stderr), exit 2", async () => {
    const result = await runCli(['doctor', '--no-such-flag'], { env });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Nonexistent flag: --no-such-flag');
  });

  it('plan --json prints the plan as exactly one JSON document (as without --json); a missing -i is {"error"}', async () => {
    const repo = mkdtempSync(join(home, 'repo-'));
    writeFileSync(join(repo, 'calc.py'), 'def add(a, b):\n    return a + b\n');
    const withJson = await runCli(['plan', '-i', 'add a function slugify to calc.py', '--json', '--no-cache'], {
      env,
      cwd: repo,
    });
    const without = await runCli(['plan', '-i', 'add a function slugify to calc.py', '--no-cache'], { env, cwd: repo });
    expect(withJson.status).toBe(0);
    const plan = JSON.parse(withJson.stdout) as { metadata: unknown; actions: unknown[] };
    expect(plan.actions.length).toBeGreaterThan(0);
    expect(JSON.parse(without.stdout)).toMatchObject({ actions: plan.actions });

    // Also through the cache fast path (the second identical run is served before oclif loads).
    const first = await runCli(['plan', '-i', 'add a function slugify to calc.py', '--json'], { env, cwd: repo });
    const hit = await runCli(['plan', '-i', 'add a function slugify to calc.py', '--json'], { env, cwd: repo });
    expect(JSON.parse(hit.stdout)).toEqual(JSON.parse(first.stdout));

    const missing = await runCli(['plan', '--json'], { env, cwd: repo });
    expect(missing.status).toBe(2);
    expect((JSON.parse(missing.stdout) as ErrorDocument).error.message).toContain('No instruction: pass -i TEXT');
  });

  it('plan --diff --json prints the apply result as one JSON document', async () => {
    const repo = mkdtempSync(join(home, 'repo-'));
    writeFileSync(join(repo, 'calc.py'), 'def add(a, b):\n    return a + b\n');
    const result = await runCli(
      ['plan', '-i', "add module docstring 'Calculator.'", '-f', 'calc.py', '--diff', '--json'],
      {
        env,
        cwd: repo,
      },
    );
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout) as { dry_run: boolean; diff: string };
    expect(document.dry_run).toBe(true);
    expect(document.diff).toContain('Calculator.');
  });
});

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';
import { runInPty } from './run-in-pty.js';

const home = mkdtempSync(join(tmpdir(), 'nerion-tty-'));
const env = { HOME: home, NERION_CACHE_DIR: join(home, 'cache'), XDG_CONFIG_HOME: home };
afterAll(() => rmSync(home, { recursive: true, force: true }));

const RED = '\x1b[31m';
const ESC = '\x1b[';
const failing = ['models', 'ensure', '--backend', 'llama_cpp', '--model', 'qwen'];

describe('what a person sees on a terminal (built binary under a real pseudo-terminal via `script`)', () => {
  it('on a TTY the error prefix is red', async () => {
    const run = await runInPty(failing, { env });
    expect(run.status).toBe(2);
    expect(run.screen).toContain(`${RED}Error [UNKNOWN_MODEL]:`);
  });

  it('NO_COLOR=1 on a TTY: the same words, no escape codes', async () => {
    const run = await runInPty(failing, { env: { ...env, NO_COLOR: '1' } });
    expect(run.status).toBe(2);
    expect(run.screen).toContain('Error [UNKNOWN_MODEL]:');
    expect(run.screen).not.toContain(ESC);
  });

  it('piped: no escape codes; FORCE_COLOR=1 turns them on even when piped', async () => {
    const piped = await runCli(failing, { env });
    expect(piped.stderr).toContain('Error [UNKNOWN_MODEL]:');
    expect(piped.stderr).not.toContain(ESC);
    const forced = await runCli(failing, { env: { ...env, FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain(`${RED}Error [UNKNOWN_MODEL]:`);
  });

  it('a mistyped command on a TTY: red prefix and the suggestion', async () => {
    const run = await runInPty(['doctr'], { env });
    expect(run.status).toBe(127);
    expect(run.screen).toContain(`${RED}Error [UNKNOWN_COMMAND]:`);
    expect(run.screen).toContain('Did you mean `nerion doctor`?');
  });

  it('models rm on a TTY asks y/N: "n" keeps the file (exit 130), "y" deletes it', async () => {
    const folder = join(home, 'cache', 'models', 'exl', 'codellama');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), '{}');
    const args = ['models', 'rm', '--backend', 'exllamav2', '--model', 'codellama'];
    const no = await runInPty(args, { env, answer: { prompt: '[y/N]', text: 'n\r' } });
    expect(no.screen).toContain(`Delete the folder ${folder} (2 B)? [y/N]`);
    expect(no.screen).toContain('Nothing was deleted.');
    expect(no.status).toBe(130);
    expect(existsSync(folder)).toBe(true);
    const yes = await runInPty(args, { env, answer: { prompt: '[y/N]', text: 'y\r' } });
    expect(yes.status).toBe(0);
    expect(yes.screen).toContain(`Deleted ${folder} (2 B freed).`);
    expect(existsSync(folder)).toBe(false);
  });
});

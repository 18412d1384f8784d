import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

interface ErrorJson {
  error: { code: string; message: string; data: Record<string, unknown>; fix?: { settings?: string[] } };
}

/**
 * The config file (NERION_CONFIG) and a user catalog (NERION_MODEL_CATALOG) are read only when they are
 * regular files of a bounded size: a real FIFO, a device or a huge (sparse) file at the path is refused at
 * once with CONFIG_INVALID / CATALOG_INVALID naming the path. Before, a FIFO hung the command (killed by the
 * timeout here) and /dev/zero or a huge file was read whole into memory.
 */
describe('nerion: a FIFO, a device or a huge file at the config or catalog path', () => {
  let home: string;
  let fifo: string;
  let huge: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'nerion-settings-files-'));
    fifo = join(home, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    huge = join(home, 'huge.yaml');
    await writeFile(huge, 'NERION_CODER_BACKEND: ollama\n');
    await truncate(huge, 40_000_000); // sparse: no disk used, but 40 MB to read
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const list = (env: Record<string, string>) =>
    runCli(['models', 'list', '--json'], {
      env: { HOME: home, NERION_CACHE_DIR: join(home, 'cache'), ...env },
      cwd: home,
      timeoutMs: 30_000,
    });

  it.each([
    ['a FIFO', () => fifo, 'is not a regular file (a FIFO (named pipe))'],
    ['/dev/zero', () => '/dev/zero', 'is not a regular file (a device)'],
    ['a 40 MB file', () => huge, 'is larger than 1.00 MB (40.0 MB)'],
  ])('NERION_CONFIG at %s: CONFIG_INVALID naming the path, at once', async (_what, path, problem) => {
    const run = await list({ NERION_CONFIG: path() });
    expect(run.status).toBe(2);
    const { error } = JSON.parse(run.stdout) as ErrorJson;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      `The config file ${path()} ${problem} — point NERION_CONFIG at a YAML file, or remove what is at that path.`,
    );
    expect(error.data).toMatchObject({ file: path() });
    expect(error.fix?.settings).toEqual(['NERION_CONFIG']);
  });

  it.each([
    ['a FIFO', () => fifo, 'is not a regular file (a FIFO (named pipe))'],
    ['/dev/zero', () => '/dev/zero', 'is not a regular file (a device)'],
    ['a 40 MB file', () => huge, 'is larger than 16.0 MB (40.0 MB)'],
  ])('NERION_MODEL_CATALOG at %s: CATALOG_INVALID naming the path, at once', async (_what, path, problem) => {
    const run = await list({ NERION_MODEL_CATALOG: path(), NERION_CONFIG: join(home, 'absent.yaml') });
    expect(run.status).toBe(2);
    const { error } = JSON.parse(run.stdout) as ErrorJson;
    expect(error.code).toBe('CATALOG_INVALID');
    expect(error.message).toBe(
      `The model catalog ${path()} ${problem} — point NERION_MODEL_CATALOG at a catalog YAML file (format: docs/catalog.md).`,
    );
    expect(error.data).toMatchObject({ file: path() });
    expect(error.fix?.settings).toEqual(['NERION_MODEL_CATALOG']);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

// A "billion laughs" document: each level refers to the one before nine times, so expanding it would
// build 9^9 strings. The yaml parser stops after 100 alias expansions; nerion must say the file is invalid.
function aliasBomb(prefix: string): string {
  const lines = [`${prefix}a0: &a0 "lol"`];
  for (let level = 1; level <= 9; level += 1) {
    lines.push(`${prefix}a${level}: &a${level} [${Array.from({ length: 9 }, () => `*a${level - 1}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('a YAML alias bomb is refused as an invalid file, not an internal failure', () => {
  it('as the catalog (NERION_MODEL_CATALOG): CATALOG_INVALID, exit 2, naming the file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-bomb-'));
    const catalog = join(directory, 'catalog.yaml');
    writeFileSync(catalog, `version: 1\n${aliasBomb('x-')}families: []\n`);
    const result = await runCli(['models', 'list', '--json'], { env: { NERION_MODEL_CATALOG: catalog } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('CATALOG_INVALID');
    expect(result.stderr).toContain(catalog);
    expect(result.stderr).toContain('alias');
    expect(JSON.parse(result.stdout).error.code).toBe('CATALOG_INVALID');
  }, 60_000);

  it('as the config file (NERION_CONFIG): CONFIG_INVALID, exit 2, naming the file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'nerion-bomb-'));
    const config = join(directory, 'config.yaml');
    writeFileSync(config, aliasBomb(''));
    const result = await runCli(['models', 'list'], { env: { NERION_CONFIG: config } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain(config);
    expect(result.stderr).toContain('alias');
  }, 60_000);
});

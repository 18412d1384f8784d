/**
 * NERION_AUTOSTART_EXL's model-folder preparation. The downloader is a real child process: a small
 * Node script standing in for `hf download` (it writes what the real one would into
 * --local-dir), spawned without a shell. No network is used.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rejection } from '@nerion/test-support';
import { exllamaModelDir, prepareExllamaModelDir } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'nerion-exl-prepare-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in for `hf download <repo> --revision <rev> --local-dir <dir>` (mode: ok | fail | empty). */
function fakeDownloader(mode: 'ok' | 'fail' | 'empty'): string[] {
  const script = join(root, `fake-hf-${mode}.mjs`);
  writeFileSync(
    script,
    `import { mkdirSync, writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
const localDir = args[args.indexOf('--local-dir') + 1];
const revision = args.includes('--revision') ? args[args.indexOf('--revision') + 1] : 'main';
console.log('Fetching 3 files for ' + args[0] + '@' + revision);
if (${JSON.stringify(mode)} === 'fail') { console.error('401 Client Error: Repository Not Found'); process.exit(1); }
mkdirSync(localDir, { recursive: true });
writeFileSync(localDir + '/measurement.json', '{}');
if (${JSON.stringify(mode)} === 'ok') writeFileSync(localDir + '/config.json', JSON.stringify({ repo: args[0], revision, argv: args }));
`,
  );
  return [process.execPath, script];
}

const REPO = 'bartowski/Qwen2.5-Coder-7B-Instruct-exl2';

describe('prepareExllamaModelDir (a Node stand-in for the hf CLI as the downloader)', () => {
  it('without network consent: CONSENT_REQUIRED with the exact `hf download` command, and nothing is created', async () => {
    const cacheDir = join(root, 'no-consent');
    const error = await rejection(
      prepareExllamaModelDir({ model: 'qwen2.5-coder', repo: REPO, revision: '6_5', cacheDir, allowNetwork: false }),
    );
    expect(error.code).toBe('CONSENT_REQUIRED');
    const target = join(cacheDir, 'models', 'exl', 'qwen2.5-coder');
    expect(error.message).toContain(`hf download ${REPO} --revision 6_5 --local-dir ${target}`);
    expect(error.message).toMatch(/NERION_ALLOW_NETWORK=1/);
    expect(error.data.command).toEqual(['hf', 'download', REPO, '--revision', '6_5', '--local-dir', target]);
    expect(error.fix).toEqual({ settings: ['NERION_ALLOW_NETWORK'], command: error.data.command });
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('with consent: downloads into a temporary folder and renames it into place; a second call finds it present', async () => {
    const cacheDir = join(root, 'consent');
    const progress: string[] = [];
    const prepared = await prepareExllamaModelDir({
      model: 'qwen2.5-coder',
      repo: REPO,
      revision: '6_5',
      cacheDir,
      allowNetwork: true,
      command: fakeDownloader('ok'),
      onProgress: (line) => progress.push(line),
    });
    expect(prepared.status).toBe('downloaded');
    expect(prepared.modelDir).toBe(exllamaModelDir(cacheDir, 'qwen2.5-coder'));
    const config = JSON.parse(readFileSync(join(prepared.modelDir, 'config.json'), 'utf8')) as {
      repo: string;
      revision: string;
      argv: string[];
    };
    expect(config).toMatchObject({ repo: REPO, revision: '6_5' });
    // The downloader wrote into a temporary sibling, not the final folder.
    expect(config.argv.at(-1)).toMatch(/qwen2\.5-coder\.partial-/);
    expect(readdirSync(join(cacheDir, 'models', 'exl'))).toEqual(['qwen2.5-coder']);
    expect(progress.join('\n')).toMatch(/Fetching 3 files/);

    const again = await prepareExllamaModelDir({
      model: 'qwen2.5-coder',
      repo: REPO,
      revision: '6_5',
      cacheDir,
      allowNetwork: true,
      command: fakeDownloader('fail'),
    });
    expect(again.status).toBe('present');
  });

  it("a failing download is DOWNLOAD_FAILED with the tool's message, and leaves no partial folder", async () => {
    const cacheDir = join(root, 'failing');
    const error = await rejection(
      prepareExllamaModelDir({
        model: 'qwen2.5-coder',
        repo: REPO,
        revision: '6_5',
        cacheDir,
        allowNetwork: true,
        command: fakeDownloader('fail'),
      }),
    );
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toMatch(/Repository Not Found/);
    expect(readdirSync(join(cacheDir, 'models', 'exl'))).toEqual([]);
  });

  it('a download without config.json (e.g. the main branch of an EXL2 repo) is DOWNLOAD_FAILED naming the revision', async () => {
    const cacheDir = join(root, 'empty');
    const error = await rejection(
      prepareExllamaModelDir({
        model: 'qwen2.5-coder',
        repo: REPO,
        cacheDir,
        allowNetwork: true,
        command: fakeDownloader('empty'),
      }),
    );
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toMatch(/revision/);
    expect(readdirSync(join(cacheDir, 'models', 'exl'))).toEqual([]);
  });

  it('a missing downloader is DOWNLOAD_FAILED naming what to install', async () => {
    const error = await rejection(
      prepareExllamaModelDir({
        model: 'm',
        repo: REPO,
        revision: '6_5',
        cacheDir: join(root, 'missing'),
        allowNetwork: true,
        command: ['nerion-test-no-such-hf-cli', 'download'],
      }),
    );
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toMatch(/pip install -U huggingface_hub/);
  });
});

/**
 * smokeTestLlamaBuild: a test generation in a real child process. The real child runs on the prebuilt
 * binaries with the generated tiny GGUF; crashes, hangs and failures are real child scripts that die the way a
 * broken build would (a signal, no answer, an exit code).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NerionError } from '@nerion/backend-core';
import { fixturePaths } from '../../../tools/fixtures/fixture-paths.mjs';
import { smokeTestLlamaBuild } from './llama-smoke.js';

const fixtures = fixturePaths();
// The child is the built one (the test target builds the package first).
const realChild = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'llama-smoke-child.js');

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'nerion-smoke-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function childScript(body: string): string {
  const file = join(directory, 'child.mjs');
  writeFileSync(file, body);
  return file;
}

async function failure(run: Promise<unknown>): Promise<NerionError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof NerionError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('smokeTestLlamaBuild', () => {
  it('generates with the model in a child process and says which binaries ran', async () => {
    const result = await smokeTestLlamaBuild({ modelPath: fixtures.tinyLlama, build: 'prebuilt', script: realChild });
    expect(result.bindings).toBe('prebuilt');
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(result.completionTokens).toBeLessThanOrEqual(8);
    expect(result.ms).toBeGreaterThan(0);
  }, 120_000);

  it('a build that crashes takes down the child only, and is BUILD_FAILED naming the signal and the way back', async () => {
    const error = await failure(
      smokeTestLlamaBuild({
        modelPath: '/models/m.gguf',
        build: 'auto',
        script: childScript(
          `process.stderr.write('ggml: illegal instruction\\n'); process.kill(process.pid, 'SIGSEGV');`,
        ),
      }),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(
      /crashed \(SIGSEGV\) on a test generation with \/models\/m\.gguf: ggml: illegal instruction — NERION_LLAMA_BUILD=prebuilt/,
    );
    expect(error.fix?.settings).toEqual(['NERION_LLAMA_BUILD']);
  });

  it('a child that never answers is killed at the bound', async () => {
    const error = await failure(
      smokeTestLlamaBuild({
        modelPath: '/models/m.gguf',
        build: 'auto',
        timeoutMs: 500,
        script: childScript(`setInterval(() => {}, 1000);`),
      }),
    );
    expect(error.message).toMatch(/did not finish within 0\.5 s/);
  });

  it('an exit code or a missing answer is a failure too', async () => {
    const exited = await failure(
      smokeTestLlamaBuild({
        modelPath: '/m.gguf',
        build: 'auto',
        script: childScript(`console.error('MODEL_LOAD_FAILED: bad file'); process.exit(3);`),
      }),
    );
    expect(exited.message).toMatch(
      /failed \(exit 3\) on a test generation with \/m\.gguf: MODEL_LOAD_FAILED: bad file/,
    );
    const silent = await failure(
      smokeTestLlamaBuild({ modelPath: '/m.gguf', build: 'auto', script: childScript(`console.log('hello');`) }),
    );
    expect(silent.message).toMatch(/gave no result/);
  });
});

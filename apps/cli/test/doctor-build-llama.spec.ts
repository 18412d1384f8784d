import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';
import { runCliInTerminal, screenLines } from './terminal.js';

/**
 * `nerion doctor --build-llama`, the opt-in build of llama.cpp with nerion's threadpool patch (issue #16). The
 * real build compiles for 10–60 minutes, so the runs that get as far as building use NERION_LLAMA_BUILD_CLI: a stand-in for
 * node-llama-cpp's CLI (a real script in a real child process) that prints ninja's progress lines.
 */
describe('nerion doctor --build-llama', () => {
  let directory: string;
  let cache: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'nerion-build-llama-'));
    cache = join(directory, 'cache');
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  function standInCli(): string {
    const script = join(directory, 'stand-in-cli.mjs');
    writeFileSync(
      script,
      `const wait = (ms) => new Promise((r) => setTimeout(r, ms));
if (process.argv[3] === 'download') { console.log('Cloned ggml-org/llama.cpp (local bundle)'); process.exit(0); }
for (let i = 1; i <= 10; i += 1) { console.log('[' + i + '/10] Building CXX object llama.cpp/src/unit' + i + '.cpp.o'); await wait(100); }
`,
    );
    return script;
  }

  it('asks first when not on a terminal and not given --yes: CONSENT_REQUIRED naming --yes, nothing built', async () => {
    const run = await runCli(['doctor', '--build-llama'], { env: { NERION_CACHE_DIR: cache } });
    expect(run.status).toBe(4);
    expect(run.stderr).toMatch(/Error \[CONSENT_REQUIRED\].*10–60 minutes.*nerion doctor --build-llama --yes/s);
    expect(existsSync(join(cache, 'llama-build.log'))).toBe(false);
  });

  it('refuses without cmake on PATH, naming it and how to install it (nerion downloads no build tools)', async () => {
    const bin = join(directory, 'bin');
    mkdirSync(bin);
    const compiler = execFileSync('sh', ['-c', 'command -v c++'], { encoding: 'utf8' }).trim();
    symlinkSync(compiler, join(bin, 'c++'));
    const run = await runCli(['doctor', '--build-llama', '--yes'], { env: { NERION_CACHE_DIR: cache, PATH: bin } });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/Error \[BUILD_FAILED\]: Building llama\.cpp needs cmake on PATH/);
    expect(run.stderr).toMatch(/Fix: run `sudo apt-get install cmake g\+\+`/);
    expect(existsSync(join(cache, 'llama-build.log'))).toBe(false);
  });

  it('TTY: the prompt says what will happen; "n" builds nothing', async () => {
    const run = await runCliInTerminal(['doctor', '--build-llama'], {
      env: { NERION_CACHE_DIR: cache, NERION_LLAMA_BUILD_CLI: standInCli() },
      input: 'n\n',
    });
    expect(run.status).toBe(0);
    // readline redraws the prompt line as the answer is typed: the raw output holds the question.
    expect(run.stdout).toMatch(
      /Build llama\.cpp v\S+ from node-llama-cpp's bundled source, with nerion's threadpool patch to its addon \(cmake, \S+; 10–60 minutes on all cores, nothing downloaded\)\? \[y\/N\]/,
    );
    expect(screenLines(run.stdout)).toContain(
      'Nothing built; llama_cpp keeps using node-llama-cpp’s prebuilt binaries.',
    );
    expect(existsSync(join(cache, 'llama-build.log'))).toBe(false);
  });

  it('TTY with --yes: a progress bar with the step being compiled, the log kept, and an honest end line', async () => {
    const run = await runCliInTerminal(['doctor', '--build-llama', '--yes'], {
      env: { NERION_CACHE_DIR: cache, NERION_LLAMA_BUILD_CLI: standInCli() },
    });
    expect(run.status).toBe(0);
    // The bar is redrawn in place: the raw output holds every state, the screen the last one.
    expect(run.stdout).toMatch(
      /\rbuilding llama\.cpp \[#{2,3}-{21,22}\] {2}10%( ETA \d+s)? llama\.cpp\/src\/unit1\.cpp\.o/,
    );
    expect(run.stdout).toMatch(/building llama\.cpp \[#{12}-{12}\] {2}50% ETA \d+s llama\.cpp\/src\/unit5\.cpp\.o/);
    const screen = screenLines(run.stdout);
    expect(screen).toContainEqual(expect.stringMatching(/^building llama\.cpp \[#{24}\] 100% llama\.cpp\/src\/unit10/));
    expect(screen.at(-1)).toMatch(
      /^Stand-in build finished in \d+s \(log: .*llama-build\.log\); nothing was installed\.$/,
    );
    expect(readFileSync(join(cache, 'llama-build.log'), 'utf8')).toContain('[10/10] Building CXX object');
  });
});

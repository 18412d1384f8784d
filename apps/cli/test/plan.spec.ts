import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fixturePaths, writeTinyGguf, closedPort, git } from '@nerion/test-support';
import { validatePlan, type Plan } from '@nerion/planner';
import { CLI_BIN, runCli, type CliRun } from './run-cli.js';

jest.setTimeout(180_000);

/** A temp git repository with one commit: src/text.ts and src/app.py. */
function makeRepo(): string {
  const repo = mkdtempSync(join(tmpdir(), 'nerion-plan-cli-'));
  git(repo, 'init', '-q');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'text.ts'), 'export const greeting = "hi";\n');
  writeFileSync(join(repo, 'src', 'app.py'), 'def main():\n    return 0\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  return repo;
}

/** stdout must be exactly one JSON document. */
function onePlan(run: CliRun): Plan {
  expect(run.stdout.trim().startsWith('{')).toBe(true);
  return validatePlan(JSON.parse(run.stdout));
}

const cacheEntries = (repo: string) =>
  Object.keys(JSON.parse(readFileSync(join(repo, '.nerion', 'plan_cache.json'), 'utf8')).entries);

describe('nerion plan (built binary, real child processes, temp git repositories)', () => {
  const repos: string[] = [];
  const repo = () => {
    const created = makeRepo();
    repos.push(created);
    return created;
  };
  afterAll(() => {
    for (const created of repos) rmSync(created, { recursive: true, force: true });
  });

  it('Quickstart: prints exactly one sensible JSON plan on stdout with no model installed', async () => {
    const cwd = repo();
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts'], { cwd });
    expect(run.status).toBe(0);
    const plan = onePlan(run);
    expect(plan).toMatchObject({ version: 1, target_file: 'src/text.ts', metadata: { source: 'heuristic' } });
    expect(plan.actions[0]).toMatchObject({
      kind: 'insert_function',
      payload: { path: 'src/text.ts', name: 'slugify', language: 'typescript' },
    });
    expect(plan.bundle_id).toMatch(/^[0-9a-f]{64}$/u);
    expect(run.stderr).not.toContain('{');
  });

  it('serves the second identical run from .nerion/plan_cache.json, and misses after the repository changes', async () => {
    const cwd = repo();
    const args = ['plan', '-i', 'add a function slugify to src/text.ts'];
    const first = await runCli(args, { cwd });
    const second = await runCli(args, { cwd });
    expect(first.stderr).not.toContain('plan cache hit');
    expect(second.stderr).toContain('plan cache hit');
    expect(second.stdout).toBe(first.stdout);
    expect(cacheEntries(cwd)).toHaveLength(1);
    writeFileSync(join(cwd, 'src', 'text.ts'), 'export const greeting = "hello";\n');
    const third = await runCli(args, { cwd });
    expect(third.stderr).not.toContain('plan cache hit');
    expect(cacheEntries(cwd)).toHaveLength(2);
    expect(spawnSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).stdout).not.toContain('.nerion'); // .nerion/.gitignore keeps it out
  });

  it('a cache hit loads only the fast-path bundle and node: modules: no oclif, valibot, engine, planner entry or write-file-atomic (hooks record every require and import)', async () => {
    const cwd = repo();
    const args = ['plan', '-i', 'add a function slugify to src/text.ts'];
    expect((await runCli(args, { cwd })).status).toBe(0);
    // Outside the repository: an untracked file would change its fingerprint (and miss).
    const hooks = mkdtempSync(join(tmpdir(), 'nerion-plan-hook-'));
    repos.push(hooks);
    const log = join(hooks, 'imports.log');
    // bin/run.js and the bundle are CommonJS (require); oclif's commands are ES modules (import): both logged.
    const requireHook = join(hooks, 'require-hook.cjs');
    writeFileSync(
      requireHook,
      `const Module = require('node:module');\nconst { appendFileSync } = require('node:fs');\nconst original = Module.prototype.require;\nModule.prototype.require = function (id) {\n  appendFileSync(${JSON.stringify(log)}, id + '\\n');\n  return original.apply(this, arguments);\n};\n`,
    );
    const hook = join(hooks, 'hook.mjs');
    writeFileSync(
      hook,
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  appendFileSync(${JSON.stringify(log)}, specifier + '\\n');\n  return next(specifier, context);\n}\n`,
    );
    const register = join(hooks, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hook}`)});\n`,
    );
    const env = { NODE_OPTIONS: `--require=${requireHook} --import=${register}` };
    writeFileSync(log, '');
    const hit = await runCli(args, { cwd, env });
    expect(hit.stderr).toContain('plan cache hit');
    const loaded = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
    // The hooks saw the fast path load (so any other module would have been seen too) ...
    expect(loaded.some((specifier) => specifier.endsWith('plan-fast-path.bundle.cjs'))).toBe(true);
    // ... and nothing else but Node's own modules: the bundle holds the workspace code a hit needs.
    expect(
      loaded.filter(
        (specifier) =>
          !specifier.startsWith('node:') &&
          !/(^|\/)(run|register|hook)\.m?js$|plan-fast-path\.bundle\.cjs$/u.test(specifier),
      ),
    ).toEqual([]);
    // The same hooks do see a miss load the rest (the check can fail).
    writeFileSync(log, '');
    const miss = await runCli([...args, '-f', 'src/app.py'], { cwd, env });
    expect(miss.status).toBe(0);
    const missed = readFileSync(log, 'utf8').split('\n');
    for (const heavy of ['@oclif/core', '@nerion/planner', 'valibot', 'write-file-atomic'])
      expect(missed).toContain(heavy);
  });

  it('a cache hit writes stdout directly, and a full non-blocking pipe still gets the whole plan (the rest goes through the stream)', async () => {
    const cwd = repo();
    const args = ['plan', '-i', 'add a function slugify to src/text.ts'];
    const first = await runCli(args, { cwd });
    expect(first.status).toBe(0);
    // Python gives the CLI a pipe whose write end is non-blocking and already full, so the plan's write(2)
    // fails with EAGAIN; it starts reading only once the CLI has said "plan cache hit" (just before the plan).
    const script = [
      'import fcntl, json, os, subprocess, sys, time',
      'r, w = os.pipe()',
      'fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)',
      'filled = 0',
      'try:',
      '    while True: filled += os.write(w, b"x" * 4096)',
      'except BlockingIOError: pass',
      'child = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.PIPE, env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "CI": "true"})',
      'os.close(w)',
      'stderr = b""',
      'while b"plan cache hit" not in stderr and child.poll() is None: stderr += child.stderr.readline()',
      'time.sleep(0.5)',
      'data = b""',
      'while True:',
      '    chunk = os.read(r, 65536)',
      '    if not chunk: break',
      '    data += chunk',
      'stderr += child.stderr.read()',
      'print(json.dumps({"status": child.wait(), "filled": filled, "out": data[filled:].decode(), "err": stderr.decode()}))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, process.execPath, CLI_BIN, ...args], { cwd, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { status: number; filled: number; out: string; err: string };
    expect(result.filled).toBeGreaterThan(0);
    expect(result.err).toContain('plan cache hit');
    expect(result.status).toBe(0);
    expect(result.out).toBe(first.stdout);
  });

  it('refuses an edited cache entry (warning on stderr) and plans again', async () => {
    const cwd = repo();
    const args = ['plan', '-i', 'add a function slugify to src/text.ts'];
    await runCli(args, { cwd });
    const path = join(cwd, '.nerion', 'plan_cache.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const entry = Object.values(file.entries)[0] as { plan: Plan };
    entry.plan.actions[0] = {
      kind: 'create_file',
      payload: { path: 'src/text.ts', content: 'tampered', overwrite: true },
    };
    writeFileSync(path, JSON.stringify(file));
    const run = await runCli(args, { cwd });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain('plan cache hit');
    expect(run.stderr).toContain('bundle_id does not match');
    expect(onePlan(run).actions[0]!.kind).toBe('insert_function');
  });

  it('sets a corrupt cache file aside and rebuilds it', async () => {
    const cwd = repo();
    mkdirSync(join(cwd, '.nerion'));
    writeFileSync(join(cwd, '.nerion', 'plan_cache.json'), '{"version": 1, "entr');
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts'], { cwd });
    expect(run.status).toBe(0);
    onePlan(run);
    expect(run.stderr).toContain('plan_cache.json.corrupt-');
    expect(
      readdirSync(join(cwd, '.nerion')).filter((name) => name.startsWith('plan_cache.json.corrupt-')),
    ).toHaveLength(1);
    expect(cacheEntries(cwd)).toHaveLength(1);
  });

  it('--no-cache neither reads nor writes the cache', async () => {
    const cwd = repo();
    const run = await runCli(['plan', '-i', 'rename main to run', '-f', 'src/app.py', '--no-cache'], { cwd });
    expect(run.status).toBe(0);
    expect(onePlan(run).actions[0]).toMatchObject({
      kind: 'rename_symbol',
      payload: { old_name: 'main', new_name: 'run' },
    });
    expect(existsSync(join(cwd, '.nerion'))).toBe(false);
  });

  it('-f is taken relative to the working directory and made repo-relative', async () => {
    const cwd = repo();
    const run = await runCli(['plan', '-i', 'add module docstring', '-f', 'app.py', '--no-cache'], {
      cwd: join(cwd, 'src'),
    });
    expect(run.status).toBe(0);
    expect(onePlan(run)).toMatchObject({ target_file: 'src/app.py', actions: [{ kind: 'add_module_docstring' }] });
  });

  it('refuses paths outside the repository, including through a symlink (exit 2, PATH_ESCAPE)', async () => {
    const cwd = repo();
    const outside = mkdtempSync(join(tmpdir(), 'nerion-outside-'));
    repos.push(outside);
    symlinkSync(outside, join(cwd, 'linked'));
    for (const args of [
      ['plan', '-i', 'add a function f to ../evil.py'],
      ['plan', '-i', 'add a function f', '-f', '../evil.py'],
      ['plan', '-i', 'add a function f to linked/evil.py'],
    ]) {
      const run = await runCli(args, { cwd });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('Error [PATH_ESCAPE]');
    }
  });

  it('an instruction it cannot map, without a target, exits 2 saying what to do', async () => {
    const run = await runCli(['plan', '-i', 'make it better'], { cwd: repo() });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Error [INVALID_REQUEST]');
    expect(run.stderr).toContain('-f FILE');
  });

  it('with a target, an unmappable instruction asks for clarification in metadata', async () => {
    const run = await runCli(['plan', '-i', 'make it better', '-f', 'src/app.py'], { cwd: repo() });
    expect(run.status).toBe(0);
    expect(onePlan(run).metadata).toMatchObject({ clarification_needed: true });
  });

  it('--llm on llama.cpp (tiny random-weight GGUF), not strict: heuristic fallback, one warning line, not cached', async () => {
    const cwd = repo();
    const env = {
      NERION_CODER_BACKEND: 'llama_cpp',
      LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama,
      NERION_LLAMA_THREADS: '1',
    };
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--llm'], { cwd, env });
    expect(run.status).toBe(0);
    const plan = onePlan(run);
    expect(plan.metadata).toMatchObject({ source: 'heuristic-fallback' });
    expect(plan.metadata.fallback_reason).toMatch(/^\[[A-Z_]+\] /u);
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning: the llama_cpp/'));
    expect(warnings).toHaveLength(1);
    expect(existsSync(join(cwd, '.nerion', 'plan_cache.json'))).toBe(false);
  });

  it('--llm never gets the heuristic plan from the cache', async () => {
    const cwd = repo();
    const args = ['plan', '-i', 'add a function slugify to src/text.ts'];
    await runCli(args, { cwd });
    const port = await closedPort();
    const run = await runCli([...args, '--llm', '--backend', 'ollama'], {
      cwd,
      env: { NERION_CODER_BASE_URL: `http://127.0.0.1:${port}` },
    });
    expect(run.stderr).not.toContain('plan cache hit');
    expect(onePlan(run).metadata.source).toBe('heuristic-fallback');
  });

  it('NERION_LLM_STRICT=1: an unreachable backend exits non-zero with the cause and prints no plan', async () => {
    const port = await closedPort();
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--llm', '--backend', 'ollama'], {
      cwd: repo(),
      env: { NERION_LLM_STRICT: '1', NERION_CODER_BASE_URL: `http://127.0.0.1:${port}` },
    });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Error [BACKEND_UNREACHABLE]');
    expect(run.stderr).toContain(`127.0.0.1:${port}`);
  });

  it('NERION_LLM_STRICT=1 on llama.cpp with a prompt longer than the model context: exit 2 naming both sizes, no plan', async () => {
    // The fixture's byte-level vocabulary makes the plan prompt ~3,500 tokens against its 2,048-token context.
    const env = {
      NERION_CODER_BACKEND: 'llama_cpp',
      LLAMA_CPP_MODEL_PATH: fixturePaths().tinyLlama,
      NERION_LLAMA_THREADS: '1',
      NERION_LLM_STRICT: '1',
    };
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--llm', '--json-grammar'], {
      cwd: repo(),
      env,
    });
    expect(run.stdout).toBe('');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /Error \[INVALID_REQUEST\]: The prompt is \d+ tokens but the llama_cpp context for "deepseek-coder-v2" holds 2048/u,
    );
  });

  it('NERION_LLM_STRICT=1 with --json-grammar on llama.cpp (random-weight GGUF, 8k context): the invalid plan exits 5 with the cause', async () => {
    const modelPath = join(mkdtempSync(join(tmpdir(), 'nerion-plan-8k-')), 'tiny-8k.gguf');
    await writeTinyGguf(modelPath, { contextLength: 8192 });
    const env = {
      NERION_CODER_BACKEND: 'llama_cpp',
      LLAMA_CPP_MODEL_PATH: modelPath,
      NERION_LLAMA_THREADS: '1',
      NERION_LLM_STRICT: '1',
    };
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--llm', '--json-grammar'], {
      cwd: repo(),
      env,
      timeoutMs: 120_000,
    });
    expect(run.stdout).toBe('');
    expect(run.status).toBe(5);
    expect(run.stderr).toMatch(/Error \[(INVALID_OUTPUT|PLAN_INVALID)\]/u);
    expect(run.stderr).not.toContain('heuristic'); // strict: no fallback
    rmSync(dirname(modelPath), { recursive: true, force: true });
  }, 130_000);

  it('8 concurrent processes with different instructions leave 8 entries in a valid cache file', async () => {
    const cwd = repo();
    const instructions = [
      'add a function a1 to src/text.ts',
      'add a function a2 to src/text.ts',
      'add a class C3 to src/app.py',
      'rename main to start in src/app.py',
      'add module docstring to src/app.py',
      'add import os to src/app.py',
      'add interface I7 to src/text.ts',
      'export greeting in src/text.ts',
    ];
    const runs = await Promise.all(instructions.map((instruction) => runCli(['plan', '-i', instruction], { cwd })));
    for (const run of runs) {
      expect(run.status).toBe(0);
      onePlan(run);
    }
    expect(cacheEntries(cwd)).toHaveLength(8);
    expect(readdirSync(join(cwd, '.nerion')).sort()).toEqual(['.gitignore', 'plan_cache.json']);
  });
});

beforeAll(() => {
  // The binary must be built (the workspace test command builds first).
  expect(existsSync(join(fixturePaths().workspaceRoot, 'apps', 'cli', 'dist', 'commands', 'plan.js'))).toBe(true);
});

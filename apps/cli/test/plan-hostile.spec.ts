/**
 * `nerion plan` against hostile or careless surroundings (issue #12): a `.nerion` link leading out of the
 * repository, hand-edited cache entries, huge files, read-only and full disks, long instructions and FIFOs.
 * Built binary, real child processes, real temp git repositories; faults are real (links, mounts, FIFOs).
 */
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeBundleId, validatePlan, type Plan } from '@nerion/planner';
import { git } from '@nerion/test-support';
import { CLI_BIN, runCli, type CliRun } from './run-cli.js';

jest.setTimeout(180_000);

const temporaries: string[] = [];
afterAll(() => {
  for (const path of temporaries.reverse()) rmSync(path, { recursive: true, force: true });
});

function temporary(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  temporaries.push(path);
  return path;
}

/** A temp git repository with one commit: src/text.ts and src/app.py. */
function makeRepo(): string {
  const repo = temporary('nerion-hostile-');
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

/** Every file under `folder` with its content, for "nothing changed here" assertions. */
function snapshot(folder: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of readdirSync(folder, { recursive: true }) as string[])
    try {
      result[name] = readFileSync(join(folder, name), 'utf8');
    } catch {
      result[name] = '<not a file>';
    }
  return result;
}

describe('nerion plan: .nerion as a symbolic link out of the repository (case 4)', () => {
  it('refuses with PATH_ESCAPE (exit 2) and writes or renames nothing at the link target', async () => {
    const cwd = makeRepo();
    const outside = temporary('nerion-outside-state-');
    writeFileSync(join(outside, 'plan_cache.json'), 'precious, not a cache\n');
    writeFileSync(join(outside, 'notes.txt'), 'mine\n');
    symlinkSync(outside, join(cwd, '.nerion'));
    const before = snapshot(outside);
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts'], { cwd });
    expect(run.stderr).toContain('Error [PATH_ESCAPE]');
    expect(run.stderr).toContain('.nerion');
    expect(run.stderr).toContain('--no-cache');
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(snapshot(outside)).toEqual(before);
    // --no-cache does not touch the state folder, so it still works.
    const uncached = await runCli(['plan', '-i', 'add a function slugify to src/text.ts', '--no-cache'], { cwd });
    expect(uncached.status).toBe(0);
    onePlan(uncached);
    expect(snapshot(outside)).toEqual(before);
  });

  it('a link inside .nerion (plan_cache.json → a file outside) is set aside, never followed or written through', async () => {
    const cwd = makeRepo();
    const outside = temporary('nerion-outside-file-');
    writeFileSync(join(outside, 'target.json'), '{"version":1,"entries":{}}\n');
    mkdirSync(join(cwd, '.nerion'));
    symlinkSync(join(outside, 'target.json'), join(cwd, '.nerion', 'plan_cache.json'));
    const before = snapshot(outside);
    const run = await runCli(['plan', '-i', 'add a function slugify to src/text.ts'], { cwd });
    expect(run.status).toBe(0);
    onePlan(run);
    expect(run.stderr).toContain('not a regular file');
    expect(snapshot(outside)).toEqual(before);
    const second = await runCli(['plan', '-i', 'add a function slugify to src/text.ts'], { cwd });
    expect(second.stderr).toContain('plan cache hit');
  });
});

interface EditablePlan {
  target_file?: unknown;
  actions: { payload: Record<string, unknown> }[];
  metadata: Record<string, unknown>;
  bundle_id?: string;
}

describe('nerion plan: hand-edited cache entries are never served (case 5)', () => {
  const args = ['plan', '-i', 'add a function slugify to src/text.ts'];
  const cacheFile = (cwd: string) => join(cwd, '.nerion', 'plan_cache.json');

  /** Plans once, applies `edit` to the stored plan (re-computing bundle_id, as a careful forger would). */
  async function editStoredPlan(cwd: string, edit: (plan: EditablePlan) => void): Promise<void> {
    const first = await runCli(args, { cwd });
    expect(first.status).toBe(0);
    const file = JSON.parse(readFileSync(cacheFile(cwd), 'utf8'));
    const entry = Object.values(file.entries)[0] as { plan: EditablePlan };
    edit(entry.plan);
    entry.plan.bundle_id = computeBundleId(entry.plan as unknown as Plan);
    writeFileSync(cacheFile(cwd), JSON.stringify(file));
  }

  const edits: [string, (plan: EditablePlan) => void][] = [
    ['an array-valued payload path', (plan) => (plan.actions[0].payload.path = ['../../etc/passwd'])],
    ['an array-valued target_file', (plan) => (plan.target_file = ['../../etc/passwd'])],
    ['a path inside a nested object', (plan) => (plan.actions[0].payload.path = { path: '../../etc/passwd' })],
    ['an unknown payload key', (plan) => (plan.actions[0].payload.shell = 'rm -rf /')],
    ['a payload value of the wrong type', (plan) => (plan.actions[0].payload.name = 42)],
    ['metadata: clarification_needed false', (plan) => (plan.metadata.clarification_needed = false)],
    ['metadata: source llm', (plan) => (plan.metadata.source = 'llm')],
    ['metadata: an unknown key', (plan) => (plan.metadata.trusted = true)],
  ];
  for (const [what, edit] of edits) {
    it(`refuses ${what} with a warning and plans again`, async () => {
      const cwd = makeRepo();
      await editStoredPlan(cwd, edit);
      const run = await runCli(args, { cwd });
      expect(run.stderr).not.toContain('plan cache hit');
      // Once: the fast path's lookup (bin/run.js loads it bundled) is handed to the command, not repeated.
      expect(run.stderr.match(/warning: plan cache: ignoring a cached plan/gu)).toHaveLength(1);
      expect(run.status).toBe(0);
      const plan = onePlan(run);
      expect(plan.actions[0]).toMatchObject({ kind: 'insert_function', payload: { path: 'src/text.ts' } });
      expect(plan.metadata).toEqual(expect.not.objectContaining({ trusted: true }));
      expect(plan.metadata.source).toBe('heuristic');
      // The re-planned entry replaced the edited one and is served again.
      const again = await runCli(args, { cwd });
      expect(again.stderr).toContain('plan cache hit');
      expect(again.stdout).toBe(run.stdout);
    });
  }
});

describe('nerion plan: a target that is not a regular file (case 13)', () => {
  const env = { NERION_CODER_BACKEND: 'ollama', OLLAMA_HOST: 'http://127.0.0.1:47' };

  it('a FIFO as the target of --llm is refused at once (exit 2, INVALID_REQUEST), not read for ever', async () => {
    const cwd = makeRepo();
    const fifo = join(cwd, 'src', 'pipe.py');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const extra of [[], ['--no-cache']]) {
      const run = await runCli(['plan', '-i', 'add module docstring', '-f', 'src/pipe.py', '--llm', ...extra], {
        cwd,
        env,
        timeoutMs: 30_000,
      });
      expect(run.stderr).toContain('Error [INVALID_REQUEST]');
      expect(run.stderr).toContain('src/pipe.py');
      expect(run.stderr).toContain('not a regular file');
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('a directory as the target of --llm is refused the same way', async () => {
    const cwd = makeRepo();
    mkdirSync(join(cwd, 'src', 'pkg.py'));
    const run = await runCli(['plan', '-i', 'add module docstring', '-f', 'src/pkg.py', '--llm'], { cwd, env });
    expect(run.stderr).toContain('Error [INVALID_REQUEST]');
    expect(run.stderr).toContain('a directory');
    expect(run.status).toBe(2);
  });

  it('a 3 GiB (sparse) target is read only as far as the prompt needs: the plan is still made', async () => {
    const cwd = makeRepo();
    const big = join(cwd, 'src', 'big.py');
    closeSync(openSync(big, 'w'));
    truncateSync(big, 3 * 1024 ** 3);
    const run = await runCli(['plan', '-i', 'add module docstring', '-f', 'src/big.py', '--llm', '--no-cache'], {
      cwd,
      env,
    });
    expect(run.stderr).not.toContain('Error');
    expect(run.stderr).not.toContain('Cannot read the target');
    expect(run.status).toBe(0);
    const plan = onePlan(run);
    expect(plan.metadata.source).toBe('heuristic-fallback'); // nothing listens on port 47 (port 9 is one fetch refuses outright)
    expect(plan.metadata.fallback_reason).toMatch(/^\[BACKEND_UNREACHABLE\]/u);
  });
});

describe('nerion plan: long instructions, and instructions from a file or stdin (case 10)', () => {
  const instruction = 'add a function slugify to src/text.ts';

  it('an instruction over the limit is refused up front with INVALID_REQUEST naming the limit (exit 2), even with --llm', async () => {
    const cwd = makeRepo();
    const long = `${instruction} ${'please '.repeat(3000)}`; // ~21 KB
    for (const extra of [[], ['--llm'], ['--no-cache']]) {
      const run = await runCli(['plan', '-i', long, ...extra], {
        cwd,
        env: { NERION_CODER_BACKEND: 'ollama', OLLAMA_HOST: 'http://127.0.0.1:47' },
      });
      expect(run.stderr).toContain('Error [INVALID_REQUEST]');
      expect(run.stderr).toContain('20000 characters');
      expect(run.stderr).toContain(`${long.length}`);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('-i - reads the instruction from stdin and --instruction-file F from a file: the same plan, then a cache hit', async () => {
    const cwd = makeRepo();
    const direct = await runCli(['plan', '-i', instruction, '--no-cache'], { cwd });
    expect(direct.status).toBe(0);
    const fromStdin = await runCli(['plan', '-i', '-'], { cwd, input: `${instruction}\n` });
    expect(fromStdin.stderr).toBe('');
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).toBe(direct.stdout);
    const file = join(temporary('nerion-instruction-'), 'instruction.txt');
    writeFileSync(file, `${instruction}\n`);
    const fromFile = await runCli(['plan', '--instruction-file', file], { cwd });
    expect(fromFile.stdout).toBe(direct.stdout);
    expect(fromFile.stderr).toContain('plan cache hit');
    const stdinAgain = await runCli(['plan', '-i', '-'], { cwd, input: instruction });
    expect(stdinAgain.stderr).toContain('plan cache hit');
    expect(stdinAgain.stdout).toBe(direct.stdout);
  });

  it('a 200 KB instruction on stdin or in a file is refused with the limit (what a shell argument could not carry)', async () => {
    const cwd = makeRepo();
    const huge = `${instruction} ${'x'.repeat(200 * 1024)}`;
    const file = join(temporary('nerion-instruction-'), 'huge.txt');
    writeFileSync(file, huge);
    for (const [args, input] of [
      [['plan', '-i', '-'], huge],
      [['plan', '--instruction-file', file], ''],
    ] as const) {
      const run = await runCli(args, { cwd, input });
      expect(run.stderr).toContain('Error [INVALID_REQUEST]');
      expect(run.stderr).toContain('20000 characters');
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('a missing instruction file, or both -i and --instruction-file, exit 2 saying why', async () => {
    const cwd = makeRepo();
    const missing = await runCli(['plan', '--instruction-file', join(cwd, 'nope.txt')], { cwd });
    expect(missing.stderr).toContain('Error [INVALID_REQUEST]');
    expect(missing.stderr).toContain('nope.txt');
    expect(missing.status).toBe(2);
    const both = await runCli(['plan', '-i', instruction, '--instruction-file', join(cwd, 'nope.txt')], { cwd });
    expect(both.status).toBe(2);
    expect(both.stdout).toBe('');
    const neither = await runCli(['plan'], { cwd });
    expect(neither.status).toBe(2);
  });
});

describe('nerion plan -i - on a terminal (real pseudo-terminal via script)', () => {
  it('says it is reading the instruction from stdin, then prints the plan for what was typed', () => {
    const cwd = makeRepo();
    const typed = 'sleep 1; printf "add module docstring to src/app.py\\n"; sleep 0.5; printf "\\004"; sleep 3';
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BIN)} plan -i -`;
    const result = spawnSync('sh', ['-c', `(${typed}) | script -q -c ${JSON.stringify(command)} /dev/null`], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    });
    const screen = result.stdout.replace(/\r/gu, '');
    expect(screen).toContain('Reading the instruction from stdin (end it with Ctrl-D).');
    expect(screen).toContain('"kind": "add_module_docstring"');
  });
});

/** Mounts for real (root here); where mounting is not permitted the tests say so and skip. */
function tryMount(args: string[]): string | undefined {
  const result = spawnSync('mount', args, { encoding: 'utf8' });
  return result.status === 0 ? undefined : `mount ${args.join(' ')} failed: ${result.stderr.trim() || result.error}`;
}
const mountProbe = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'nerion-mount-probe-'));
  const failure = tryMount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
  if (failure === undefined) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return failure;
})();
if (mountProbe) console.warn(`Skipping the read-only and full-disk tests (case 9): ${mountProbe}`);
const itWithMounts = mountProbe ? it.skip : it;

describe('nerion plan on a read-only or full disk (case 9, real mounts)', () => {
  const mounted: string[] = [];
  afterAll(() => {
    for (const point of mounted.reverse()) spawnSync('umount', [point]);
  });
  const mount = (args: string[], point: string) => {
    const failure = tryMount([...args, point]);
    if (failure) throw new Error(failure);
    mounted.push(point);
  };
  /** `repo` seen through a read-only bind mount. */
  const readOnlyView = (repo: string): string => {
    const view = temporary('nerion-ro-view-');
    mount(['--bind', repo], view);
    mount(['-o', 'remount,ro,bind'], view);
    return view;
  };
  const args = ['plan', '-i', 'add a function slugify to src/text.ts'];

  itWithMounts('read-only repository: the plan is printed, with one warning that it was not cached', async () => {
    const repo = makeRepo();
    const expected = await runCli([...args, '--no-cache'], { cwd: repo });
    const run = await runCli(args, { cwd: readOnlyView(repo) });
    expect(run.stderr).not.toContain('INTERNAL');
    expect(run.stderr).toMatch(/^warning: the plan was not cached \(\[CACHE_ERROR\] .*read-only.*--no-cache/mu);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(expected.stdout);
  });

  itWithMounts('read-only repository with a cached plan due an LRU refresh: still served as a hit', async () => {
    const repo = makeRepo();
    const first = await runCli(args, { cwd: repo });
    const file = join(repo, '.nerion', 'plan_cache.json');
    const data = JSON.parse(readFileSync(file, 'utf8'));
    for (const entry of Object.values(data.entries) as { last_used_at: number }[]) entry.last_used_at = 0;
    writeFileSync(file, JSON.stringify(data));
    const run = await runCli(args, { cwd: readOnlyView(repo) });
    expect(run.stderr).toContain('plan cache hit');
    expect(run.stderr).not.toContain('Error');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(first.stdout);
  });

  itWithMounts(
    'full disk under .nerion (a 16 KiB tmpfs, filled): the plan is printed, nothing half-written is left',
    async () => {
      const repo = makeRepo();
      const state = join(repo, '.nerion');
      mkdirSync(state);
      mount(['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs'], state);
      spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler')}`, 'bs=4k', 'count=100']);
      const expected = await runCli([...args, '--no-cache'], { cwd: repo });
      const run = await runCli(args, { cwd: repo });
      expect(run.stderr).not.toContain('INTERNAL');
      expect(run.stderr).toMatch(/^warning: the plan was not cached \(\[CACHE_ERROR\] .*no space left.*--no-cache/mu);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe(expected.stdout);
      const left = readdirSync(state).filter((name) => name !== 'filler');
      for (const name of left) expect(readFileSync(join(state, name), 'utf8')).not.toBe(''); // no empty .gitignore
      expect(left.filter((name) => /\.tmp-|\.lock/u.test(name))).toEqual([]);
    },
  );
});

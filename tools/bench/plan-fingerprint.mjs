// Cost of the plan-cache fingerprint on a large repository: a generated 20,000-file git repository with 50
// dirty files (25 modified, 25 untracked), fingerprintRepository() ÷ `git status --porcelain` on the same
// repository, each run as one call that spawns git, interleaved so both see the same machine load.
// Target (issue #7): ≤ 1.5. Needs a build (npm run build). Usage: node tools/bench/plan-fingerprint.mjs [runs] [files]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { fingerprintRepository } = await import(join(root, 'libs/plan-cache/dist/index.js'));
const runs = Number(process.argv[2] ?? 15);
const fileCount = Number(process.argv[3] ?? 20_000);

const repo = mkdtempSync(join(tmpdir(), 'nerion-bench-fp-'));
const git = (...args) => {
  const result = spawnSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function gitStatus() {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['status', '--porcelain'], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', () => {});
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve() : reject(new Error(`git status exited ${status}`))));
  });
}

async function timeIt(work) {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

try {
  const setupStarted = Date.now();
  git('init', '-q');
  const directories = 200;
  for (let index = 0; index < fileCount; index += 1) {
    const directory = join(repo, `pkg${index % directories}`);
    if (index < directories) mkdirSync(directory);
    writeFileSync(join(directory, `file${index}.ts`), `export const value${index} = ${index};\n`);
  }
  git('add', '-A');
  git('commit', '-qm', 'generated');
  for (let index = 0; index < 25; index += 1)
    writeFileSync(join(repo, `pkg${index}`, `file${index}.ts`), `export const value${index} = 'changed';\n`);
  for (let index = 0; index < 25; index += 1)
    writeFileSync(join(repo, `pkg${index}`, `untracked${index}.ts`), `export const extra = ${index};\n`);
  console.log(`generated ${fileCount} files + 50 dirty in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

  const check = await fingerprintRepository(repo, true);
  if (check.files !== 50) throw new Error(`expected 50 dirty files, the fingerprint saw ${check.files}`);
  const baseline = [];
  const fingerprint = [];
  for (let index = 0; index < runs + 2; index += 1) {
    const statusTime = await timeIt(gitStatus);
    const fingerprintTime = await timeIt(() => fingerprintRepository(repo, true));
    if (index >= 2) {
      baseline.push(statusTime);
      fingerprint.push(fingerprintTime);
    }
  }
  const base = median(baseline);
  const measured = median(fingerprint);
  console.log(`git status --porcelain        median ${base.toFixed(1)} ms`);
  console.log(
    `fingerprintRepository()       median ${measured.toFixed(1)} ms   ratio ${(measured / base).toFixed(2)} (target ≤ 1.5)`,
  );
} finally {
  rmSync(repo, { recursive: true, force: true });
}

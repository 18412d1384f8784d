// 8 concurrent `nerion plan` processes with different instructions on one repository: afterwards the cache
// must hold 8 entries in a valid file, with no lock or temp file left. Prints the wall time of the batch ÷
// one `nerion plan --no-cache` run measured in the same run. Needs a build (npm run build).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'apps/cli/bin/run.js');
const rounds = Number(process.argv[2] ?? 3);
const env = { PATH: process.env.PATH, HOME: process.env.HOME };

function makeRepo() {
  const repo = mkdtempSync(join(tmpdir(), 'nerion-bench-conc-'));
  const git = (...args) => spawnSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: repo });
  git('init', '-q');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'text.ts'), 'export const a = 1;\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  return repo;
}

function run(repo, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`exit ${status}: ${stderr}`)),
    );
  });
}

let failures = 0;
for (let round = 0; round < rounds; round += 1) {
  const repo = makeRepo();
  try {
    const single = Date.now();
    await run(repo, ['plan', '-i', 'add a function warmup to src/text.ts', '--no-cache']);
    const singleMs = Date.now() - single;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 8 }, (_, index) => run(repo, ['plan', '-i', `add a function f${index} to src/text.ts`])),
    );
    const batchMs = Date.now() - started;
    const file = JSON.parse(readFileSync(join(repo, '.nerion', 'plan_cache.json'), 'utf8'));
    const entries = Object.keys(file.entries).length;
    const leftovers = readdirSync(join(repo, '.nerion')).filter(
      (name) => name !== 'plan_cache.json' && name !== '.gitignore',
    );
    const ok = entries === 8 && leftovers.length === 0;
    if (!ok) failures += 1;
    console.log(
      `round ${round + 1}: ${entries} entries, leftovers [${leftovers.join(', ')}], 8 processes ${batchMs} ms = ${(batchMs / singleMs).toFixed(2)} × one run (${singleMs} ms) ${ok ? 'OK' : 'FAILED'}`,
    );
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}
if (failures > 0) process.exitCode = 1;

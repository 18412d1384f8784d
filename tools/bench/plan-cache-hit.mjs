// Cost of a plan-cache hit: median wall time of `nerion plan -i …` run again on an unchanged repository
// (the answer comes from .nerion/plan_cache.json) ÷ `node -e 0`, measured in the same run, interleaved.
// Target (issue #11): ≤ 2. Also prints a cache miss (heuristic planner) for comparison, and the load average
// (the machine may be shared). On Linux it also prints each command's mean CPU time (user + system, the
// git child included, from /proc/self/stat's cutime/cstime around each run) and its ratio: on a loaded
// machine that ratio moves much less than wall time, which also counts waiting for a core. Needs a build
// (npm run build).
// Usage: node tools/bench/plan-cache-hit.mjs [runs] [other-checkout] — with another built checkout of nerion
// (e.g. main), its cache hit is measured in the same interleaved runs, for a before/after on one machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'apps/cli/bin/run.js');
const runs = Number(process.argv[2] ?? 15);
const other = process.argv[3] === undefined ? undefined : join(process.argv[3], 'apps/cli/bin/run.js');

const repo = mkdtempSync(join(tmpdir(), 'nerion-bench-hit-'));
const git = (...args) => {
  const result = spawnSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
};
git('init', '-q');
mkdirSync(join(repo, 'src'));
writeFileSync(join(repo, 'src', 'text.ts'), 'export const a = 1;\n');
git('add', '.');
git('commit', '-qm', 'init');

const env = { PATH: process.env.PATH, HOME: process.env.HOME };
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
function once(args, { expectHit } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: repo, env, encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  if (expectHit === true && !result.stderr.includes('plan cache hit'))
    throw new Error(`expected a cache hit, stderr: ${result.stderr}`);
  return elapsed;
}
/** CPU time (ms) of this process's waited-for children so far (Linux; clock ticks of 10 ms), else undefined. */
function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime (fields 16 and 17 of stat)
  } catch {
    return undefined;
  }
}
/** Runs the baseline and each command in turn, so all see the same machine load (it is shared). */
function interleaved(commands) {
  const samples = commands.map(() => []);
  const cpu = commands.map(() => 0);
  for (let index = 0; index < runs + 2; index += 1) {
    commands.forEach(([args, options], position) => {
      const before = childrenCpuMs();
      const elapsed = once(args, options);
      if (index < 2) return; // the first two warm the file cache
      samples[position].push(elapsed);
      cpu[position] += (childrenCpuMs() ?? NaN) - (before ?? NaN);
    });
  }
  return samples.map((values, position) => ({ wall: median(values), cpu: cpu[position] / runs }));
}

try {
  const instruction = ['plan', '-i', 'add a function slugify to src/text.ts'];
  const plan = [cli, ...instruction];
  spawnSync(process.execPath, plan, { cwd: repo, env }); // fills the cache
  const commands = [[['-e', '0']], [plan, { expectHit: true }], [[...plan, '--no-cache']]];
  if (other) commands.push([[other, ...instruction], { expectHit: true }]);
  const before = loadavg()[0];
  const [baseline, hit, miss, otherHit] = interleaved(commands);
  const load = `load average ${before.toFixed(2)} → ${loadavg()[0].toFixed(2)}`;
  const cpu = ({ cpu: value }) =>
    Number.isNaN(value) ? '' : `   cpu ${value.toFixed(1)} ms ratio ${(value / baseline.cpu).toFixed(2)}`;
  const line = (label, result, note = '') =>
    console.log(
      `${label.padEnd(31)}median ${result.wall.toFixed(1)} ms   ratio ${(result.wall / baseline.wall).toFixed(2)}${note}${cpu(result)}`,
    );
  console.log(
    `node -e 0                      median ${baseline.wall.toFixed(1)} ms${cpu(baseline)}   (${runs} runs, ${load})`,
  );
  line('nerion plan (cache hit)', hit, ' (target ≤ 2)');
  if (otherHit !== undefined) line(`  same, ${process.argv[3]}`, otherHit);
  line('nerion plan --no-cache', miss);
} finally {
  rmSync(repo, { recursive: true, force: true });
}

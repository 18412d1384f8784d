// Start-up cost of the CLI: median wall time of `nerion --version` (and `nerion --help`) ÷ `node -e 0`,
// measured in the same run. Target (issue #2): --version ≤ 2.5× a bare node start.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'apps/cli/bin/run.js');
const runs = Number(process.argv[2] ?? 15);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function time(args) {
  const samples = [];
  for (let index = 0; index < runs + 2; index += 1) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
    if (index >= 2) samples.push(elapsed); // the first two warm the file cache
  }
  return median(samples);
}

const baseline = time(['-e', '0']);
const version = time([cli, '--version']);
const help = time([cli, '--help']);
console.log(`node -e 0          median ${baseline.toFixed(1)} ms`);
console.log(
  `nerion --version   median ${version.toFixed(1)} ms   ratio ${(version / baseline).toFixed(2)} (target ≤ 2.5)`,
);
console.log(`nerion --help      median ${help.toFixed(1)} ms   ratio ${(help / baseline).toFixed(2)}`);

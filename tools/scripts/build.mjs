// Builds every publishable package (TypeScript project references, in dependency order) and the CLI's
// oclif manifest, so `nerion` starts without scanning its commands. Runs on `npm ci` (prepare) too.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(command, args, cwd = root) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: ${[command, ...args].join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

run(bin('tsc'), ['-b', 'tsconfig.json']);
run(bin('oclif'), ['manifest'], join(root, 'apps/cli'));

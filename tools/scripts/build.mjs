// Builds every publishable package (tsc per project, in dependency order) and the CLI's oclif manifest, so
// `nerion` starts without scanning its commands — through Nx (`build` targets inferred from each
// tsconfig.lib.json, the CLI's `manifest` target in apps/cli/package.json), whose cache skips what has
// not changed — and the CLI's plan-cache fast path as one file (`bundle` target, tools/scripts/bundle-plan-fast-path.mjs).
// Runs on `npm ci` (prepare) too.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = ['run-many', '-t', 'build', 'manifest', 'bundle', '--outputStyle=static', ...process.argv.slice(2)];
const result = spawnSync(join(root, 'node_modules', '.bin', 'nx'), args, {
  cwd: root,
  stdio: 'inherit',
  // NERION_LINT_GRAPH: Nx loads eslint.config.js while it builds the graph; the config must not ask Nx for it.
  env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', ...process.env, NERION_LINT_GRAPH: '1' },
});
if (result.status !== 0) {
  console.error(`build: nx ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  process.exit(result.status ?? 1);
}

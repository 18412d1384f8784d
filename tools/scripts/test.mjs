// The README's test command: format check, lint, build (through Nx, cached), type-check the tests (ts-jest
// only transpiles them), then every project's Jest tests through Nx (`nx run-many -t test`, one Jest run per
// project, cached by Nx). Ends with the plain line `N passed, N failed[, N skipped]` computed from Jest's
// JSON results (each project's .jest-results.json, written by tools/scripts/jest-results-reporter.mjs; the
// format check, lint, build and type-check count as one check each) and exits non-zero on any failure.
// Extra arguments go to Jest; a path under libs/<name> or apps/<name> limits the run to those projects.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const extraJestArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

function step(label, command, args, env = {}) {
  console.log(`\n== ${label}: ${[command.replace(root + '/', ''), ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

for (const [label, command, args] of [
  ['format', bin('prettier'), ['--check', '--log-level', 'warn', '.']],
  ['lint', bin('eslint'), ['.']],
  ['build', process.execPath, [join(root, 'tools/scripts/build.mjs')]],
  ['typecheck tests', bin('tsc'), ['-p', 'tsconfig.typecheck.json']],
]) {
  if (step(label, command, args)) passed += 1;
  else {
    failed += 1;
    console.log(`${label}: FAILED`);
  }
}

const RESULTS_FILE = '.jest-results.json';
// docs/examples hold code too (a fourth-party backend passing the contract suite): an Nx project via project.json.
const projectDirs = ['libs', 'apps', 'docs/examples'].flatMap((folder) =>
  readdirSync(join(root, folder))
    .map((name) => `${folder}/${name}`)
    .filter((dir) => existsSync(join(root, dir, 'jest.config.js'))),
);
const packageName = (dir) =>
  JSON.parse(
    readFileSync(
      join(root, dir, existsSync(join(root, dir, 'package.json')) ? 'package.json' : 'project.json'),
      'utf8',
    ),
  ).name;
// `npm test -- libs/plan-cache` runs only that project's Jest (the pattern still filters its files).
const named = extraJestArgs.filter((arg) => !arg.startsWith('-'));
const chosen = named.length
  ? projectDirs.filter((dir) => named.some((arg) => arg.replace(/^\.\//, '').startsWith(dir)))
  : projectDirs;
const selected = named.length && chosen.length ? chosen : projectDirs;
for (const dir of projectDirs) rmSync(join(root, dir, RESULTS_FILE), { force: true });
step(
  'test',
  bin('nx'),
  [
    'run-many',
    '-t',
    'test',
    '-p',
    selected.map(packageName).join(','),
    '--parallel=1',
    '--outputStyle=static',
    // CI runs every test for real: Nx's cache is machine-wide, and a result cached by an earlier run on the same
    // machine would otherwise stand in for the test (it does not know about ../shared/models, for one).
    ...(process.env.CI === 'true' ? ['--skip-nx-cache'] : []),
    '--',
    '--maxWorkers=2',
    ...(named.length ? ['--passWithNoTests'] : []),
    ...extraJestArgs,
  ],
  {
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NERION_LINT_GRAPH: '1',
    NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning']
      .filter(Boolean)
      .join(' '),
  },
);
let totalTests = 0;
for (const dir of selected) {
  let results;
  try {
    results = JSON.parse(readFileSync(join(root, dir, RESULTS_FILE), 'utf8'));
  } catch (error) {
    console.log(`test: Jest wrote no results for ${dir} (${error.message})`);
    failed += 1;
    continue;
  }
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + results.numTodoTests;
  totalTests += results.numTotalTests;
  // A suite that fails to load has no failed tests of its own: count it, or it would vanish.
  for (const suite of results.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.every((test) => test.status !== 'failed')) {
      failed += 1;
      console.log(`suite failed to run: ${suite.name.replace(root + '/', '')}\n${suite.message}`);
    }
  }
}
if (totalTests === 0) {
  console.log('test: Jest ran no tests');
  failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);

// The README's test command: lint, build (incremental), type-check the tests (ts-jest only transpiles them),
// then every project's Jest tests in one run. Ends with the plain line `N passed, N failed[, N skipped]`
// computed from Jest's --json results (lint, build and the type-check count as one check each) and exits
// non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const outputDir = mkdtempSync(join(tmpdir(), 'nerion-jest-'));
const outputFile = join(outputDir, 'results.json');
step('test', bin('jest'), ['--json', `--outputFile=${outputFile}`, '--maxWorkers=2', ...extraJestArgs], {
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning']
    .filter(Boolean)
    .join(' '),
});
let results;
try {
  results = JSON.parse(readFileSync(outputFile, 'utf8'));
} catch (error) {
  console.log(`test: Jest wrote no results (${error.message})`);
  failed += 1;
}
rmSync(outputDir, { recursive: true, force: true });
if (results) {
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + results.numTodoTests;
  // A suite that fails to load has no failed tests of its own: count it, or it would vanish.
  for (const suite of results.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.every((test) => test.status !== 'failed')) {
      failed += 1;
      console.log(`suite failed to run: ${suite.name.replace(root + '/', '')}\n${suite.message}`);
    }
  }
  if (results.numTotalTests === 0) {
    console.log('test: Jest ran no tests');
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);

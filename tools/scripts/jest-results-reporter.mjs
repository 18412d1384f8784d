// A Jest reporter that writes the run's results, in the same shape as `jest --json`, to
// `<project>/.jest-results.json`. tools/scripts/test.mjs runs each project's tests through Nx (one Jest
// run per project, cached by Nx, which restores this file on a cache hit) and sums these files into the
// final `N passed, N failed` line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTestResults } from '@jest/test-result';

export const RESULTS_FILE = '.jest-results.json';

export default class JestResultsReporter {
  /** @param {{ rootDir: string }} globalConfig */
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    writeFileSync(join(this.rootDir, RESULTS_FILE), `${JSON.stringify(formatTestResults(results))}\n`);
  }
}

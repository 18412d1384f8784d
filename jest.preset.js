// Shared Jest settings for every project: ESM TypeScript through ts-jest (node-llama-cpp is ESM-only),
// workspace packages mapped to their sources so tests need no build, and the GGUF fixtures generated once.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const workspaceRoot = dirname(fileURLToPath(import.meta.url));

/** @param {string} projectDir @param {string} displayName */
export function createJestConfig(projectDir, displayName) {
  return {
    displayName,
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper: {
      '^@nerion/backend-core/testing$': join(workspaceRoot, 'libs/backend-core/src/testing/index.ts'),
      '^@nerion/planner/source$': join(workspaceRoot, 'libs/planner/src/source/index.ts'),
      '^@nerion/(backend-[a-z]+)/settings$': join(workspaceRoot, 'libs/$1/src/settings.ts'),
      '^@nerion/((?!cli$)[a-z-]+)$': join(workspaceRoot, 'libs/$1/src/index.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: join(workspaceRoot, 'tsconfig.spec.json') }],
    },
    globalSetup: join(workspaceRoot, 'tools/fixtures/jest-global-setup.mjs'),
    testTimeout: 60_000,
    // Used when Jest runs one project (Nx's `test` target): results for tools/scripts/test.mjs's count.
    reporters: ['default', join(workspaceRoot, 'tools/scripts/jest-results-reporter.mjs')],
  };
}

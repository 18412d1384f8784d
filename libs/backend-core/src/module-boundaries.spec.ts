import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The arrows between packages (docs/architecture.md), as eslint enforces them: tags in each package.json's
// `nx.tags`, constraints in tools/lint/module-boundaries.js. Real eslint, real project graph, one child process.
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Case {
  filePath: string;
  code: string;
}

function lintImports(cases: readonly Case[]): Map<string, string[]> {
  const run = spawnSync(process.execPath, [join(root, 'tools/lint/lint-imports.mjs'), JSON.stringify(cases)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (run.status !== 0) throw new Error(`lint-imports failed (${run.status}): ${run.stderr}`);
  const results = JSON.parse(run.stdout) as { filePath: string; boundaryErrors: string[] }[];
  return new Map(results.map((result) => [result.filePath, result.boundaryErrors]));
}

const against: Case[] = [
  // core imports nothing of ours: not the config, not a backend
  { filePath: 'libs/backend-core/src/against-1.ts', code: "export { resolveConfig } from '@nerion/config';\n" },
  {
    filePath: 'libs/backend-core/src/against-2.ts',
    code: "export { pullOllamaModel } from '@nerion/backend-ollama';\n",
  },
  // a backend uses the core only: not a consumer, not another backend
  { filePath: 'libs/backend-ollama/src/against-3.ts', code: "export { loadCatalog } from '@nerion/catalog';\n" },
  {
    filePath: 'libs/backend-llamacpp/src/against-4.ts',
    code: "export { createOllamaBackend } from '@nerion/backend-ollama';\n",
  },
  // a consumer uses the core only
  { filePath: 'libs/catalog/src/against-5.ts', code: "export { resolveConfig } from '@nerion/config';\n" },
  {
    filePath: 'libs/config/src/against-6.ts',
    code: "export { DEFAULT_OLLAMA_BASE_URL } from '@nerion/backend-ollama';\n",
  },
  // test-support is for tests only
  { filePath: 'apps/cli/src/against-7.ts', code: "export { freePort } from '@nerion/test-support';\n" },
];
const along: Case[] = [
  { filePath: 'libs/config/src/along-1.ts', code: "export { NerionError } from '@nerion/backend-core';\n" },
  { filePath: 'libs/backend-ollama/src/along-2.ts', code: "export { NerionError } from '@nerion/backend-core';\n" },
  { filePath: 'apps/cli/src/along-3.ts', code: "export { resolveConfig } from '@nerion/config';\n" },
  { filePath: 'libs/catalog/src/along-4.spec.ts', code: "export { freePort } from '@nerion/test-support';\n" },
];

describe('module boundaries (eslint @nx/enforce-module-boundaries on the package tags)', () => {
  it('fails an import against the arrows and passes one along them', () => {
    const results = lintImports([...against, ...along]);
    for (const { filePath } of against) {
      expect({ filePath, errors: results.get(filePath) }).toEqual({
        filePath,
        errors: [expect.stringMatching(/can only depend on libs tagged|Circular dependency/)],
      });
    }
    for (const { filePath } of along)
      expect({ filePath, errors: results.get(filePath) }).toEqual({ filePath, errors: [] });
  });
});

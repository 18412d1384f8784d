// Lints one-line import snippets as if they were files at the given paths, with the workspace's eslint config,
// and prints the @nx/enforce-module-boundaries messages for each as JSON. Used by the module-boundary test.
// Usage: node tools/lint/lint-imports.mjs '[{"filePath":"libs/x/src/f.ts","code":"import …"}]'
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cases = JSON.parse(process.argv[2]);
// The snippets are not files of any tsconfig, so the type-aware rules (and their project service) are off here.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });
const results = [];
for (const { filePath, code } of cases) {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  results.push({
    filePath,
    boundaryErrors: (result?.messages ?? [])
      .filter((message) => message.ruleId === '@nx/enforce-module-boundaries')
      .map((message) => message.message),
  });
}
process.stdout.write(JSON.stringify(results));

// Keeps each project's tsconfig.lib.json references in line with its @nerion/* dependencies, the root
// tsconfig.json listing every built project, and each project's jest.config.js. Run after adding a package
// or a dependency between packages. Private unbuilt packages (test-support) are used from source by tests.
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const projects = ['libs', 'apps']
  .flatMap((folder) => readdirSync(join(root, folder)).map((name) => join(folder, name)))
  .filter((dir) => existsSync(join(root, dir, 'package.json')));
const byName = new Map(projects.map((dir) => [JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name, dir]));

const built = [];
for (const dir of projects) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const name = pkg.name.replace('@nerion/', '');
  if (!existsSync(join(root, dir, 'jest.config.js'))) {
    writeFileSync(
      join(root, dir, 'jest.config.js'),
      `import { createJestConfig } from '${relative(join(root, dir), join(root, 'jest.preset.js'))}';\n\nexport default createJestConfig(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '${name}');\n`,
    );
  }
  if (pkg.private) continue;
  built.push(dir);
  // Only runtime dependencies are build references: specs (where devDependencies are used) are not built.
  const deps = Object.keys({ ...pkg.dependencies }).filter((name) => byName.has(name));
  const config = {
    extends: relative(join(root, dir), join(root, 'tsconfig.base.json')),
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo' },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.spec.ts', 'src/**/*.int.spec.ts'],
    references: deps.map((name) => ({ path: relative(join(root, dir), join(root, byName.get(name), 'tsconfig.lib.json')) })),
  };
  writeFileSync(join(root, dir, 'tsconfig.lib.json'), JSON.stringify(config, null, 2) + '\n');
}
writeFileSync(
  join(root, 'tsconfig.json'),
  JSON.stringify({ files: [], references: built.map((dir) => ({ path: `./${dir}/tsconfig.lib.json` })) }, null, 2) + '\n',
);
console.log(`synced ${projects.length} projects`);

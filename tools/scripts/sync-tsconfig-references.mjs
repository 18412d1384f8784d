// Keeps each project's tsconfig.json/tsconfig.lib.json references in line with its @nerion/* dependencies, the root
// tsconfig.json listing every built project, and each project's jest.config.js. Run after adding a package
// or a dependency between packages. Private unbuilt packages (test-support) are used from source by tests.
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const projects = ['libs', 'apps']
  .flatMap((folder) => readdirSync(join(root, folder)).map((name) => join(folder, name)))
  .filter((dir) => existsSync(join(root, dir, 'package.json')));
const byName = new Map(
  projects.map((dir) => [JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name, dir]),
);

const built = new Set(
  projects
    .map((dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')))
    .filter((pkg) => !pkg.private)
    .map((pkg) => pkg.name),
);
const builtDirs = [];
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
  builtDirs.push(dir);
  // Every built workspace dependency, dev ones too (what Nx's @nx/js:typescript-sync expects).
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => built.has(name));
  const config = {
    extends: relative(join(root, dir), join(root, 'tsconfig.base.json')),
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo' },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.spec.ts', 'src/**/*.int.spec.ts'],
    references: deps.map((name) => ({
      path: relative(join(root, dir), join(root, byName.get(name), 'tsconfig.lib.json')),
    })),
  };
  writeFileSync(join(root, dir, 'tsconfig.lib.json'), JSON.stringify(config, null, 2) + '\n');
  // The project's tsconfig.json (an Nx TS-solution entry point: Nx infers build and typecheck targets from it).
  writeFileSync(
    join(root, dir, 'tsconfig.json'),
    JSON.stringify({ files: [], include: [], references: [{ path: './tsconfig.lib.json' }] }, null, 2) + '\n',
  );
}
writeFileSync(
  join(root, 'tsconfig.json'),
  JSON.stringify({ files: [], references: builtDirs.map((dir) => ({ path: `./${dir}` })) }, null, 2) + '\n',
);
console.log(`synced ${projects.length} projects`);
